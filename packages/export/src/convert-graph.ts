import type { LayersModel, layers, SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { ConversionContext } from './context.js';
import { exportError, unsupportedLayer } from './errors.js';
import { LAYER_CONVERTERS, supportedLayerClasses } from './layers/registry.js';
import type { TfShape } from './layers/types.js';
import type { ResolvedOptions } from './options.js';

const CONTAINER_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** A layer that is itself a model (Sequential or functional), used as a layer inside another. */
export function isContainer(layer: unknown): layer is LayersModel {
  const l = layer as Partial<LayersModel> & { getClassName?: () => string };
  return (
    typeof l?.getClassName === 'function' &&
    (CONTAINER_CLASSES.has(l.getClassName()) ||
      (Array.isArray(l.layers) && Array.isArray(l.outputs)))
  );
}

/**
 * Converts a model's graph given the ONNX value names of its inputs; returns its outputs' names.
 * It follows tfjs's own topology (layer.inboundNodes): each call of a shared layer is one node of
 * that layer, so a layer applied twice is converted twice over the same weights, and a nested
 * model is converted recursively with its inputs bound to the caller's values.
 */
export async function convertContainer(
  ctx: ConversionContext<ResolvedOptions>,
  model: LayersModel,
  inputs: string[],
): Promise<string[]> {
  const values = new Map<SymbolicTensor, string>();
  model.inputs.forEach((st, i) => {
    values.set(st, inputs[i]!);
  });
  const outputs: string[] = [];
  for (const st of model.outputs) outputs.push(await resolve(ctx, st, values));
  return outputs;
}

async function resolve(
  ctx: ConversionContext<ResolvedOptions>,
  target: SymbolicTensor,
  values: Map<SymbolicTensor, string>,
): Promise<string> {
  // Depth-first over inbound nodes with an explicit stack: deep nets must not overflow the JS stack.
  const stack: SymbolicTensor[] = [target];
  while (stack.length > 0) {
    const st = stack[stack.length - 1]!;
    if (values.has(st)) {
      stack.pop();
      continue;
    }
    const layer = st.sourceLayer;
    const node = layer.inboundNodes[st.nodeIndex];
    if (node === undefined || layer.getClassName() === 'InputLayer') {
      throw exportError(
        'INVALID_ARGUMENT',
        `exportOnnx: tensor "${st.name}" comes from layer "${layer.name}" (${layer.getClassName()}), which is not connected to the model's inputs.`,
        { layerName: layer.name },
      );
    }
    const missing = node.inputTensors.filter((t) => !values.has(t));
    if (missing.length > 0) {
      stack.push(...missing.reverse());
      continue;
    }
    const inputNames = node.inputTensors.map((t) => values.get(t)!);
    const outputNames = await convertCall(
      ctx,
      layer,
      node.inputTensors,
      node.outputTensors,
      inputNames,
    );
    node.outputTensors.forEach((t, i) => {
      values.set(t, outputNames[i]!);
    });
    stack.pop();
  }
  return values.get(target)!;
}

async function convertCall(
  ctx: ConversionContext<ResolvedOptions>,
  layer: layers.Layer,
  inputTensors: SymbolicTensor[],
  outputTensors: SymbolicTensor[],
  inputs: string[],
): Promise<string[]> {
  const className = layer.getClassName();
  if (isContainer(layer)) return convertContainer(ctx, layer, inputs);
  const converter = ctx.options.customLayers[className] ?? LAYER_CONVERTERS[className];
  if (converter === undefined) {
    throw unsupportedLayer(
      className,
      layer.name,
      `no ONNX converter for it (supported: ${supportedLayerClasses().join(', ')}; pass options.customLayers to add one)`,
    );
  }
  const outputs = await converter({
    ctx,
    layer,
    className,
    config: layer.getConfig() as Record<string, unknown>,
    inputs,
    inputShapes: inputTensors.map((t) => [...t.shape] as TfShape),
    outputShapes: outputTensors.map((t) => [...t.shape] as TfShape),
  });
  if (outputs.length !== outputTensors.length) {
    throw exportError(
      'INVALID_ARGUMENT',
      `exportOnnx: the converter for layer "${layer.name}" (${className}) returned ${outputs.length} outputs, expected ${outputTensors.length}.`,
      { layerName: layer.name, className },
    );
  }
  return outputs;
}

/** The class of the (innermost) layer producing a model output, looking inside nested models. */
export function producingClass(st: SymbolicTensor): string {
  let current = st;
  for (let depth = 0; depth < 64; depth++) {
    const layer = current.sourceLayer;
    if (!isContainer(layer)) return layer.getClassName();
    const inner = layer.outputs[current.tensorIndex];
    if (inner === undefined) return layer.getClassName();
    current = inner;
  }
  return current.sourceLayer.getClassName();
}
