import { describe, type ImageLayout, type Preprocessing } from '@ebmjs/contract';
import { exportError } from './errors.js';
import { MAX_OPSET, MIN_OPSET } from './graph-builder.js';
import type { LayerConverter } from './layers/types.js';
import type { ConversionSettings } from './settings.js';

/** @deprecated Use `ImageLayout` (from @ebmjs/contract, re-exported here). */
export type InputLayout = ImageLayout;

/** How inputs are prepared before the model (defaults: scale 1, mean 0, std 1). */
export type { Preprocessing };

export interface ExportOnnxOptions {
  /** ONNX opset, 13–21. Default 17. */
  opset?: number;
  /** ONNX IR version. Default 8 (what opset 17 needs; loads in checkers and runtimes from 2021 on). */
  irVersion?: number;
  /** Layout of rank-4 inputs and outputs. 'NHWC' (default) is tfjs's; 'NCHW' is PyTorch's. */
  layout?: ImageLayout;
  /** Leave the batch dimension symbolic ("batch") so one model serves any batch size. Default true. */
  dynamicBatch?: boolean;
  /** Fixed batch size written when `dynamicBatch` is false. Default 1. */
  batchSize?: number;
  /** Append an L2 normalization over the last axis of every output. Default false. */
  normalize?: boolean;
  /** Store trained weights as float16 (halves the file; computation stays float32). Default false. */
  float16?: boolean;
  /** Run the graph passes (redundant Transpose elimination). Default true. */
  optimize?: boolean;
  /** Training recipe that produced the encoder (simclr, moco, pirl, ...), written to metadata. */
  recipe?: string;
  /** Input preprocessing the model expects, written to metadata (the graph does not apply it). */
  preprocessing?: Preprocessing;
  /** Extra metadata_props entries. Keys starting with "ebmjs." are reserved. */
  metadata?: Record<string, string>;
  /** Converters for custom layer classes, by tfjs class name; they take precedence over built-ins. */
  customLayers?: Record<string, LayerConverter>;
}

export interface ResolvedOptions extends ConversionSettings {
  customLayers: Record<string, LayerConverter>;
}

const KNOWN = new Set([
  'opset',
  'irVersion',
  'layout',
  'dynamicBatch',
  'batchSize',
  'normalize',
  'float16',
  'optimize',
  'recipe',
  'preprocessing',
  'metadata',
  'customLayers',
]);

function invalid(option: string, expected: string, received: unknown): never {
  throw exportError(
    'INVALID_ARGUMENT',
    `exportOnnx: option "${option}" must be ${expected}, received ${describe(received)}.`,
    { option, expected, received },
  );
}

function bool(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') invalid(name, 'a boolean', v);
  return v;
}

function numbers(name: string, v: unknown, fallback: number, positive: boolean): number | number[] {
  if (v === undefined) return fallback;
  const list = Array.isArray(v) ? v : [v];
  const ok =
    list.length > 0 &&
    list.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!ok)
    invalid(
      name,
      positive
        ? 'a positive finite number or an array of them'
        : 'a finite number or an array of them',
      v,
    );
  return Array.isArray(v) ? [...(v as number[])] : (v as number);
}

/** Validates the options and fills in defaults; an unknown or malformed option is an error. */
export function resolveOptions(options: ExportOnnxOptions | undefined): ResolvedOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') invalid('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw exportError(
        'INVALID_ARGUMENT',
        `exportOnnx: unknown option "${key}"; expected one of ${[...KNOWN].join(', ')}.`,
        { option: key },
      );
    }
  }
  const opset = options.opset ?? 17;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    invalid('opset', `an integer from ${MIN_OPSET} to ${MAX_OPSET}`, options.opset);
  }
  // The ONNX checker pairs each opset with a minimum IR version (opset 15 -> 8, 19 -> 9, 21 -> 10).
  const minIr = opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 15 ? 8 : 7;
  const irVersion = options.irVersion ?? Math.max(8, minIr);
  if (!Number.isInteger(irVersion) || irVersion < minIr || irVersion > 10) {
    invalid('irVersion', `an integer from ${minIr} to 10 for opset ${opset}`, options.irVersion);
  }
  const layout = options.layout ?? 'NHWC';
  if (layout !== 'NHWC' && layout !== 'NCHW') invalid('layout', '"NHWC" or "NCHW"', layout);
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    invalid('batchSize', 'a positive integer', batchSize);
  const recipe = options.recipe ?? 'unknown';
  if (typeof recipe !== 'string' || recipe.length === 0)
    invalid('recipe', 'a non-empty string', recipe);

  const pre = options.preprocessing ?? {};
  if (typeof pre !== 'object' || pre === null) invalid('preprocessing', 'an object', pre);
  const scale = numbers('preprocessing.scale', pre.scale, 1, true);
  if (Array.isArray(scale)) invalid('preprocessing.scale', 'a single positive number', pre.scale);

  const metadata = options.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null)
    invalid('metadata', 'an object of strings', metadata);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') invalid(`metadata.${k}`, 'a string', v);
    if (k.startsWith('ebmjs.'))
      invalid(`metadata.${k}`, 'a key outside the reserved "ebmjs." prefix', k);
  }
  const customLayers = options.customLayers ?? {};
  for (const [k, v] of Object.entries(customLayers)) {
    if (typeof v !== 'function') invalid(`customLayers.${k}`, 'a converter function', v);
  }

  return {
    opset,
    irVersion,
    layout,
    dynamicBatch: bool('dynamicBatch', options.dynamicBatch, true),
    batchSize,
    normalize: bool('normalize', options.normalize, false),
    float16: bool('float16', options.float16, false),
    optimize: bool('optimize', options.optimize, true),
    recipe,
    preprocessing: {
      scale: scale as number,
      mean: numbers('preprocessing.mean', pre.mean, 0, false),
      std: numbers('preprocessing.std', pre.std, 1, true),
    },
    metadata: { ...metadata },
    customLayers: { ...customLayers },
  };
}
