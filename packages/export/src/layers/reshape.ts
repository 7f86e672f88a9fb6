import { unsupportedLayer } from '../errors.js';
import { attr } from '../ir.js';
import type { LayerConversion } from './types.js';

/**
 * Flatten in tfjs's element order. The graph is channels-last here, so an NHWC feature map is
 * flattened as (h, w, c) exactly like tfjs even when the convolutions run in NCHW: the Transpose
 * back to NHWC in front of it is never removed, only folded into a following MatMul's weights.
 */
export function flatten(args: LayerConversion): string[] {
  const b = args.ctx.builder;
  let shape = args.inputShapes[0] ?? [];
  let x = args.inputs[0]!;
  if (args.config['dataFormat'] === 'channelsFirst' && shape.length > 2) {
    // tfjs moves channels last before flattening a channels-first input.
    const perm = [0, ...Array.from({ length: shape.length - 2 }, (_, i) => i + 2), 1];
    x = b.transpose(x, perm, `${args.layer.name}/to_channels_last`);
    shape = perm.map((p) => shape[p] ?? null);
  }
  const y = b.op('Flatten', [x], args.layer.name, { axis: attr.int(1) });
  // The Transpose-folding pass needs the static shape of what is flattened; a training graph
  // (see training/parameters.ts) opts out, as its weights must stay the tfjs variables.
  const keepsWeights = (args.ctx as { keepsWeightLayouts?: boolean }).keepsWeightLayouts === true;
  if (!keepsWeights && shape.slice(1).every((d) => typeof d === 'number')) {
    b.graph.shapes.set(x, [-1, ...(shape.slice(1) as number[])]);
  }
  return [y];
}

/** Reshape to targetShape (batch kept via ONNX's 0 = copy this dimension). */
export function reshape(args: LayerConversion): string[] {
  // tfjs writes the inferred dimension (-1) as null.
  const raw = args.config['targetShape'];
  const target = Array.isArray(raw) ? raw.map((d) => (d === null ? -1 : d)) : raw;
  if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d) && (d > 0 || d === -1))) {
    throw unsupportedLayer(
      args.className,
      args.layer.name,
      `targetShape ${JSON.stringify(target)}`,
    );
  }
  const b = args.ctx.builder;
  return [b.op('Reshape', [args.inputs[0]!, b.constInt64([0, ...target])], args.layer.name)];
}

/** Permute: dims are 1-based over the non-batch axes. */
export function permute(args: LayerConversion): string[] {
  const dims = args.config['dims'];
  if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw unsupportedLayer(args.className, args.layer.name, `dims ${JSON.stringify(dims)}`);
  }
  return [args.ctx.builder.transpose(args.inputs[0]!, [0, ...dims], args.layer.name)];
}

/** Layers that are the identity at inference: dropout and noise variants, InputLayer, Masking-free. */
export function identity(args: LayerConversion): string[] {
  return [args.inputs[0]!];
}
