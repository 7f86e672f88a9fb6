import {
  describe,
  EbmError,
  type InputLayout,
  METADATA_KEYS,
  type Preprocessing,
} from '@ebmjs/contract';
import { ONNX_FLOAT, type OnnxModelSummary, onnxTypeName, readOnnxModel } from './onnx-model.js';

/**
 * The metadata_props keys @ebmjs/export writes.
 * @deprecated Use `METADATA_KEYS` (the same object, from @ebmjs/contract).
 */
export const EBMJS_METADATA_KEYS = METADATA_KEYS;

export type { InputLayout, Preprocessing };
export { METADATA_KEYS };

export interface ImageGeometry {
  /** Null when the model takes any height (fully convolutional). */
  height: number | null;
  width: number | null;
  /** 1 (grayscale), 3 (RGB) or 4 (RGBA). */
  channels: number;
}

/** What the extractor knows about a model: from its graph and its ebm.js metadata. */
export interface ModelInfo {
  inputName: string;
  outputName: string;
  /** Input shape in the model's layout; [0] is the batch, null marks a dynamic dimension. */
  inputShape: (number | null)[];
  layout: InputLayout;
  /** Geometry of image inputs; null when the model does not take images (or its layout is unknown). */
  image: ImageGeometry | null;
  /** Batch size the graph fixes, or null for a dynamic batch. */
  fixedBatch: number | null;
  /** Resolved preprocessing; mean and std have one value or one per channel. */
  preprocessing: { scale: number; mean: number[]; std: number[] };
  /** Size of one embedding, when the graph or metadata says. */
  embeddingDim: number | null;
  /** True when the model's own output is already L2-normalized. */
  outputNormalized: boolean;
  /** True when the file carries ebm.js metadata (exported by @ebmjs/export). */
  ebmjs: boolean;
  /** Every metadata_props entry of the file. */
  metadata: Readonly<Record<string, string>>;
  modelName: string | null;
}

export interface ModelInfoOptions {
  /** Layout of a rank-4 input for models without ebm.js metadata. */
  layout?: 'NHWC' | 'NCHW';
  /** Overrides (parts of) the preprocessing the metadata declares. */
  preprocessing?: Preprocessing;
}

const K = METADATA_KEYS;

/** Reads model bytes and resolves what the extractor needs; refuses models it cannot serve. */
export function readModelInfo(bytes: Uint8Array, options: ModelInfoOptions = {}): ModelInfo {
  return resolveModelInfo(readOnnxModel(bytes), options);
}

export function resolveModelInfo(
  model: OnnxModelSummary,
  options: ModelInfoOptions = {},
): ModelInfo {
  const meta = model.metadata;
  const ebmjs = K.inputShape in meta || K.inputLayout in meta;
  if (model.inputs.length !== 1) {
    throw new EbmError(
      'UNSUPPORTED',
      `The model takes ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(', ') || 'none'}); web-infer serves encoders with exactly one input.`,
      { expected: 1, received: model.inputs.length },
    );
  }
  const input = model.inputs[0]!;
  if (input.elemType !== ONNX_FLOAT) {
    throw new EbmError(
      'UNSUPPORTED',
      `The model input "${input.name}" is ${onnxTypeName(input.elemType)}; web-infer feeds float32 inputs.`,
      { input: input.name, expected: 'float32', received: onnxTypeName(input.elemType) },
    );
  }
  const output = model.outputs[0];
  if (output === undefined) {
    throw new EbmError('UNSUPPORTED', 'The model declares no outputs.', { outputs: 0 });
  }
  if (output.elemType !== ONNX_FLOAT) {
    throw new EbmError(
      'UNSUPPORTED',
      `The model output "${output.name}" is ${onnxTypeName(output.elemType)}; web-infer reads float32 embeddings.`,
      { output: output.name, expected: 'float32', received: onnxTypeName(output.elemType) },
    );
  }

  const inputShape = resolveInputShape(input.dims, meta);
  const rank = inputShape.length;
  const layout = resolveLayout(inputShape, meta, options.layout);
  const image = imageGeometry(inputShape, layout);
  const channels = image?.channels ?? (layout === 'NC' ? inputShape[1] : null) ?? null;
  const preprocessing = resolvePreprocessing(meta, options.preprocessing, channels ?? null);

  const outDims = output.dims;
  const lastOut = outDims?.[outDims.length - 1];
  const metaDim = meta[K.embeddingDim];
  let embeddingDim: number | null = typeof lastOut === 'number' ? lastOut : null;
  if (metaDim !== undefined && /^\d+$/.test(metaDim)) embeddingDim = Number(metaDim);
  const normalization = meta[K.outputNormalization];
  if (normalization !== undefined && normalization !== 'l2' && normalization !== 'none') {
    throw corrupt(K.outputNormalization, normalization, '"l2" or "none"');
  }

  if (rank < 2) {
    throw new EbmError(
      'UNSUPPORTED',
      `The model input "${input.name}" has rank ${rank}; web-infer needs a batch axis and at least one feature axis.`,
      { input: input.name, received: inputShape },
    );
  }
  return {
    inputName: input.name,
    outputName: output.name,
    inputShape,
    layout,
    image,
    fixedBatch: inputShape[0] ?? null,
    preprocessing,
    embeddingDim,
    outputNormalized: normalization === 'l2',
    ebmjs,
    metadata: { ...meta },
    modelName: meta[K.modelName] ?? null,
  };
}

function corrupt(key: string, value: string, expected: string): EbmError {
  return new EbmError(
    'CORRUPT_FILE',
    `The model's metadata "${key}" must be ${expected}, received ${JSON.stringify(value)}.`,
    { key, expected, received: value },
  );
}

function parseJson(key: string, value: string, expected: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw corrupt(key, value, expected);
  }
}

function resolveInputShape(
  graphDims: (number | string | null)[] | null,
  meta: Record<string, string>,
): (number | null)[] {
  const fromGraph = graphDims?.map((d) => (typeof d === 'number' && d > 0 ? d : null)) ?? null;
  const raw = meta[K.inputShape];
  if (raw === undefined) {
    if (fromGraph === null) {
      throw new EbmError(
        'UNSUPPORTED',
        'The model input has no declared shape and no ebm.js metadata; web-infer cannot tell what to feed it.',
      );
    }
    return fromGraph;
  }
  const expected = 'a JSON array of positive integers or null';
  const parsed = parseJson(K.inputShape, raw, expected);
  if (
    !Array.isArray(parsed) ||
    !parsed.every((d) => d === null || (Number.isInteger(d) && (d as number) > 0))
  ) {
    throw corrupt(K.inputShape, raw, expected);
  }
  const fromMeta = parsed as (number | null)[];
  if (fromGraph === null) return fromMeta;
  const agree =
    fromGraph.length === fromMeta.length &&
    fromGraph.every((d, i) => d === null || fromMeta[i] === null || d === fromMeta[i]);
  if (!agree) {
    throw new EbmError(
      'CORRUPT_FILE',
      `The model's metadata "${K.inputShape}" ${raw} disagrees with its graph input shape [${fromGraph.map((d) => d ?? '?').join(', ')}].`,
      { key: K.inputShape, metadata: fromMeta, graph: fromGraph },
    );
  }
  return fromGraph.map((d, i) => d ?? fromMeta[i] ?? null);
}

const CHANNELS = new Set([1, 3, 4]);

function resolveLayout(
  shape: (number | null)[],
  meta: Record<string, string>,
  override: 'NHWC' | 'NCHW' | undefined,
): InputLayout {
  if (override !== undefined && override !== 'NHWC' && override !== 'NCHW') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `FeatureExtractor: option "layout" must be "NHWC" or "NCHW", received ${describe(override)}.`,
      { option: 'layout', received: override },
    );
  }
  const declared = meta[K.inputLayout];
  if (shape.length === 2) return 'NC';
  if (shape.length !== 4) return 'other';
  if (declared === 'NHWC' || declared === 'NCHW') {
    if (override !== undefined && override !== declared) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `FeatureExtractor: option "layout" is "${override}" but the model's metadata declares "${declared}".`,
        { option: 'layout', expected: declared, received: override },
      );
    }
    return declared;
  }
  if (declared !== undefined) throw corrupt(K.inputLayout, declared, '"NHWC" or "NCHW"');
  if (override !== undefined) return override;
  // No metadata: guess from where a plausible channel count sits.
  const first = shape[1];
  const last = shape[3];
  const lastIsC = last !== null && last !== undefined && CHANNELS.has(last);
  const firstIsC = first !== null && first !== undefined && CHANNELS.has(first);
  if (lastIsC && !firstIsC) return 'NHWC';
  if (firstIsC && !lastIsC) return 'NCHW';
  return 'other';
}

function imageGeometry(shape: (number | null)[], layout: InputLayout): ImageGeometry | null {
  if (layout !== 'NHWC' && layout !== 'NCHW') return null;
  const [h, w, c] =
    layout === 'NHWC' ? [shape[1], shape[2], shape[3]] : [shape[2], shape[3], shape[1]];
  if (c === null || c === undefined || !CHANNELS.has(c)) return null;
  return { height: h ?? null, width: w ?? null, channels: c };
}

function numberList(key: string, raw: unknown, positive: boolean): number[] {
  const list = Array.isArray(raw) ? raw : [raw];
  const ok =
    list.length > 0 &&
    list.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!ok) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `Preprocessing "${key}" must be ${positive ? 'a positive' : 'a'} finite number or an array of them, received ${describe(raw)}.`,
      { key, received: raw },
    );
  }
  return list as number[];
}

function resolvePreprocessing(
  meta: Record<string, string>,
  override: Preprocessing | undefined,
  channels: number | null,
): { scale: number; mean: number[]; std: number[] } {
  const fromMeta = (key: string, fallback: number): unknown => {
    const raw = meta[key];
    if (raw === undefined) return fallback;
    return parseJson(key, raw, 'a JSON number or array of numbers');
  };
  const wrap = (key: string, fn: () => number[]): number[] => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof EbmError && meta[key] !== undefined && !(key in (override ?? {})))
        throw corrupt(key, meta[key]!, 'a finite number or an array of them');
      throw error;
    }
  };
  const scale = wrap(K.preprocessingScale, () =>
    numberList('scale', override?.scale ?? fromMeta(K.preprocessingScale, 1), true),
  );
  if (scale.length !== 1) {
    throw new EbmError('INVALID_ARGUMENT', 'Preprocessing "scale" must be a single number.', {
      received: scale,
    });
  }
  const mean = wrap(K.preprocessingMean, () =>
    numberList('mean', override?.mean ?? fromMeta(K.preprocessingMean, 0), false),
  );
  const std = wrap(K.preprocessingStd, () =>
    numberList('std', override?.std ?? fromMeta(K.preprocessingStd, 1), true),
  );
  for (const [key, list] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (list.length !== 1 && list.length !== channels) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `Preprocessing "${key}" has ${list.length} values but the model input has ${channels ?? 'an unknown number of'} channels; give one value or one per channel.`,
        { key, expected: channels, received: list.length },
      );
    }
  }
  return { scale: scale[0]!, mean, std };
}
