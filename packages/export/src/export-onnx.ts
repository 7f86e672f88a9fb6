import { describe } from '@ebmjs/contract';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ConversionContext } from './context.js';
import { convertContainer, isContainer, producingClass } from './convert-graph.js';
import { exportError } from './errors.js';
import { GraphBuilder } from './graph-builder.js';
import type { IrDim } from './ir.js';
import { emitL2Normalize, L2_EPSILON } from './layers/l2-normalize.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from './layers/layout.js';
import { L2_NORMALIZE_CLASSES } from './layers/registry.js';
import { buildMetadata } from './metadata.js';
import { type ExportOnnxOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { convertWeightsToFloat16 } from './passes/float16-weights.js';
import { useGlobalPooling } from './passes/global-pooling.js';
import { removeDeadNodes, replaceUses, topologicalSort } from './passes/graph-utils.js';
import { eliminateTransposes } from './passes/transpose-elimination.js';
import { serializeModel } from './serialize.js';
import { EBMJS_VERSION } from './version.js';

/**
 * Converts a trained tfjs-layers model (Sequential or functional, possibly nesting models and
 * sharing layers) into ONNX model bytes that ONNX Runtime evaluates to the same numbers.
 *
 * The single input is named "input" and the single output "embedding" (several: input_0,
 * input_1, ... / output_0, ...). Image inputs are NHWC unless `layout: 'NCHW'`. Throws EbmError:
 * INVALID_ARGUMENT for a bad model or option, UNSUPPORTED naming the layer class and name,
 * NON_FINITE for NaN/Infinity weights.
 */
export async function exportOnnx(
  model: LayersModel,
  options?: ExportOnnxOptions,
): Promise<Uint8Array> {
  assertModel(model);
  const opts = resolveOptions(options);
  const builder = new GraphBuilder(model.name, opts.opset);
  const ctx = new ConversionContext(builder, opts);
  const graph = builder.graph;

  const single = model.inputs.length === 1;
  const singleOut = model.outputs.length === 1;
  const outputNames = model.outputs.map((_, i) => (singleOut ? 'embedding' : `output_${i}`));
  // Reserved before any layer is converted, so a layer named "embedding" cannot take the name.
  for (const name of outputNames) builder.reserve(name);
  const inputValues = model.inputs.map((st, i) =>
    declareInput(builder, opts, st, single ? 'input' : `input_${i}`),
  );
  validatePreprocessing(opts, model.inputs[0]!);
  const results = await convertContainer(ctx, model, inputValues);

  const bound = new Set<string>(graph.inputs.map((i) => i.name));
  const renamed = new Map<string, string>();
  model.outputs.forEach((st, i) => {
    const name = outputNames[i]!;
    let value = renamed.get(results[i]!) ?? results[i]!;
    const rank = st.shape.length;
    if (opts.normalize)
      value = emitL2Normalize(builder, value, rank - 1, L2_EPSILON, `${name}/l2_normalize`);
    if (rank === 4 && opts.layout === 'NCHW')
      value = builder.transpose(value, NHWC_TO_NCHW, `${name}/to_nchw`);
    if (bindOutput(builder, value, name, bound)) renamed.set(value, name);
    const shape = st.shape.map((d, axis) => dim(opts, d, axis, name));
    graph.outputs.push({
      name,
      dataType: 'float32',
      shape: rank === 4 && opts.layout === 'NCHW' ? NHWC_TO_NCHW.map((a) => shape[a]!) : shape,
    });
  });

  removeDeadNodes(graph);
  if (opts.optimize) eliminateTransposes(builder);
  useGlobalPooling(builder);
  if (opts.float16) convertWeightsToFloat16(builder);
  removeDeadNodes(graph);
  topologicalSort(graph);

  const first = model.inputs[0]!;
  const firstOut = model.outputs[0]!;
  const last = firstOut.shape[firstOut.shape.length - 1];
  const metadata = buildMetadata(opts, {
    inputShape: layoutShape(first.shape, opts),
    inputLayout: layoutName(first.shape.length, opts),
    embeddingDim: typeof last === 'number' ? last : null,
    outputNormalized: opts.normalize || L2_NORMALIZE_CLASSES.includes(producingClass(firstOut)),
    modelName: model.name,
  });
  return serializeModel(graph, {
    irVersion: opts.irVersion,
    opset: opts.opset,
    producerName: 'ebm.js',
    producerVersion: EBMJS_VERSION,
    docString: `Exported by @ebmjs/export ${EBMJS_VERSION} from the tfjs-layers model "${model.name}".`,
    metadata,
  });
}

function assertModel(model: unknown): asserts model is LayersModel {
  if (!isContainer(model)) {
    throw exportError(
      'INVALID_ARGUMENT',
      `exportOnnx: model must be a tfjs-layers LayersModel (tf.sequential or tf.model), received ${describe(model)}.`,
    );
  }
  const m = model as LayersModel;
  if (
    !Array.isArray(m.inputs) ||
    m.inputs.length === 0 ||
    !Array.isArray(m.outputs) ||
    m.outputs.length === 0
  ) {
    throw exportError(
      'INVALID_ARGUMENT',
      `exportOnnx: model "${m.name}" is not built: give its first layer an inputShape (or build it) before exporting.`,
      { modelName: m.name },
    );
  }
}

function dim(opts: ResolvedOptions, d: number | null, axis: number, value: string): IrDim {
  if (axis === 0) return opts.dynamicBatch ? 'batch' : opts.batchSize;
  return d ?? `${value}_dim${axis}`;
}

function layoutShape(shape: (number | null)[], opts: ResolvedOptions): (number | null)[] {
  const withBatch = [opts.dynamicBatch ? null : opts.batchSize, ...shape.slice(1)];
  return shape.length === 4 && opts.layout === 'NCHW'
    ? NHWC_TO_NCHW.map((a) => withBatch[a]!)
    : withBatch;
}

function layoutName(rank: number, opts: ResolvedOptions): string {
  if (rank === 4) return opts.layout;
  if (rank === 2) return 'NC';
  if (rank === 3) return 'NLC';
  return 'channels-last';
}

/** Declares a graph input; returns the value carrying it in tfjs's layout. */
function declareInput(
  b: GraphBuilder,
  opts: ResolvedOptions,
  st: SymbolicTensor,
  name: string,
): string {
  if (st.dtype !== 'float32') {
    throw exportError(
      'UNSUPPORTED',
      `exportOnnx: input "${st.name}" has dtype ${st.dtype}; only float32 inputs are supported.`,
      { input: st.name, dtype: st.dtype },
    );
  }
  b.reserve(name);
  const shape = st.shape.map((d, axis) => dim(opts, d, axis, name));
  const nchw = st.shape.length === 4 && opts.layout === 'NCHW';
  b.graph.inputs.push({
    name,
    dataType: 'float32',
    shape: nchw ? NHWC_TO_NCHW.map((a) => shape[a]!) : shape,
  });
  // The converters work channels-last; the transpose pass cancels this against the first conv.
  return nchw ? b.transpose(name, NCHW_TO_NHWC, `${name}/to_nhwc`) : name;
}

/**
 * Makes `value` available under the graph output `name`: renamed in place (returns true), or
 * copied by an Identity when it is a graph input, another output or a constant.
 */
function bindOutput(b: GraphBuilder, value: string, name: string, bound: Set<string>): boolean {
  b.reserve(name);
  const graph = b.graph;
  const producer = graph.nodes.find((n) => n.outputs.includes(value));
  if (producer === undefined || bound.has(value) || graph.initializers.has(value)) {
    b.node('Identity', [value], { name, outputNames: [name] });
    bound.add(name);
    return false;
  }
  producer.outputs = producer.outputs.map((o) => (o === value ? name : o));
  replaceUses(graph, value, name);
  const shape = graph.shapes.get(value);
  if (shape !== undefined) graph.shapes.set(name, shape);
  bound.add(name);
  return true;
}

function validatePreprocessing(opts: ResolvedOptions, input: SymbolicTensor): void {
  const channels = input.shape[input.shape.length - 1];
  for (const key of ['mean', 'std'] as const) {
    const v = opts.preprocessing[key];
    if (Array.isArray(v) && v.length !== 1 && v.length !== channels) {
      throw exportError(
        'INVALID_ARGUMENT',
        `exportOnnx: option "preprocessing.${key}" has ${v.length} values but the input has ${channels} channels; give one value or one per channel.`,
        { option: `preprocessing.${key}`, expected: channels, received: v.length },
      );
    }
  }
}
