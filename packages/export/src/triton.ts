import { describe, isEbmError, METADATA_KEYS } from '@ebmjs/contract';
import { joinPath, readBytes, writeFileAtomic } from '#node-io';
import { exportError } from './errors.js';
import { inspectOnnx, type OnnxValueSummary } from './inspect-onnx.js';

/** Where Triton runs the model's instances: `gpu`, `cpu`, or `auto` (Triton's choice). */
export type TritonInstanceKind = 'gpu' | 'cpu' | 'auto';

export interface TritonInstanceGroup {
  kind?: TritonInstanceKind;
  /** Instances per device (per listed GPU for `gpu`). Default 1. */
  count?: number;
  /** GPU ids for `kind: 'gpu'`; all visible GPUs when omitted. */
  gpus?: number[];
}

export interface TritonDynamicBatching {
  /** How long the scheduler waits to fill a batch, in microseconds. Default 100. */
  maxQueueDelayMicroseconds?: number;
  /** Batch sizes the scheduler prefers to form. Default: none (any up to max_batch_size). */
  preferredBatchSize?: number[];
}

export interface TritonRepositoryOptions {
  /** Model name (the directory under the repository). Default: the file's base name; required for bytes. */
  name?: string;
  /**
   * Triton's max_batch_size. Default 64 when the model's first dimension is symbolic, 0 (no
   * batching by Triton; dims written in full) when it is fixed.
   */
  maxBatchSize?: number;
  /** Dynamic batching: true (default when max_batch_size > 0), false, or its settings. */
  dynamicBatching?: boolean | TritonDynamicBatching;
  /** instance_group entries; omitted by default (Triton puts one instance on each GPU, else CPU). */
  instanceGroup?: TritonInstanceGroup | TritonInstanceGroup[];
  /** Version directory. Default 1. */
  version?: number;
}

export interface TritonRepositoryResult {
  /** `<repo>/<name>/config.pbtxt`. */
  configPath: string;
  /** `<repo>/<name>/<version>/model.onnx`. */
  modelPath: string;
  /** The config.pbtxt text written. */
  config: string;
}

const KNOWN = ['name', 'maxBatchSize', 'dynamicBatching', 'instanceGroup', 'version'];
const DEFAULT_MAX_BATCH = 64;
const DEFAULT_QUEUE_DELAY_US = 100;

/** ONNX TensorProto.DataType -> Triton DataType (model_config.proto). */
const TRITON_TYPES: Record<number, string> = {
  1: 'TYPE_FP32',
  2: 'TYPE_UINT8',
  3: 'TYPE_INT8',
  4: 'TYPE_UINT16',
  5: 'TYPE_INT16',
  6: 'TYPE_INT32',
  7: 'TYPE_INT64',
  8: 'TYPE_STRING',
  9: 'TYPE_BOOL',
  10: 'TYPE_FP16',
  11: 'TYPE_FP64',
  12: 'TYPE_UINT32',
  13: 'TYPE_UINT64',
  16: 'TYPE_BF16',
};

const KINDS: Record<TritonInstanceKind, string> = {
  gpu: 'KIND_GPU',
  cpu: 'KIND_CPU',
  auto: 'KIND_AUTO',
};

function invalid(option: string, expected: string, received: unknown): never {
  throw exportError(
    'INVALID_ARGUMENT',
    `writeTritonRepository: option "${option}" must be ${expected}, received ${describe(received)}.`,
    { option, received: describe(received) },
  );
}

const isCount = (v: unknown, min: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min;

/** A Triton model name is a directory name: no separators, not "." or "..". */
function checkName(name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(name) || /^\.+$/.test(name))
    invalid('name', 'a directory name of letters, digits, "_", "-" and "."', name);
  return name;
}

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** A protobuf text-format string literal: C escapes, other control characters as octal. */
function str(s: string): string {
  let out = '';
  for (const c of s) {
    const code = c.charCodeAt(0);
    out +=
      ESCAPES[c] ?? (code < 0x20 || code === 0x7f ? `\\${code.toString(8).padStart(3, '0')}` : c);
  }
  return `"${out}"`;
}

/**
 * Triton dims of one tensor: symbolic (and unknown, which inspectOnnx reports as 0) dimensions
 * are -1; the batch dimension is dropped when Triton batches (max_batch_size > 0).
 */
function tritonDims(value: OnnxValueSummary, batched: boolean): number[] {
  const dims = value.shape.map((d) => (typeof d === 'number' && d > 0 ? d : -1));
  return batched ? dims.slice(1) : dims;
}

function tensorBlock(field: 'input' | 'output', values: OnnxValueSummary[], batched: boolean) {
  const entries = values.map((v) => {
    const type = TRITON_TYPES[v.elemType];
    if (type === undefined) {
      throw exportError(
        'UNSUPPORTED',
        `writeTritonRepository: ${field} "${v.name}" has ONNX data type ${v.elemType}, which Triton has no type for.`,
        { name: v.name, elemType: v.elemType },
      );
    }
    const dims = tritonDims(v, batched);
    // A batched scalar per item has no dims left; Triton wants [ 1 ] with a reshape to [].
    const shape =
      dims.length === 0 ? '[ 1 ]\n    reshape: { shape: [ ] }' : `[ ${dims.join(', ')} ]`;
    return `  {\n    name: ${str(v.name)}\n    data_type: ${type}\n    dims: ${shape}\n  }`;
  });
  return `${field} [\n${entries.join(',\n')}\n]`;
}

function instanceGroups(option: TritonRepositoryOptions['instanceGroup']): string[] {
  if (option === undefined) return [];
  const groups = Array.isArray(option) ? option : [option];
  if (groups.length === 0) invalid('instanceGroup', 'one group or a non-empty array', option);
  const lines = groups.map((g, i) => {
    if (typeof g !== 'object' || g === null) invalid(`instanceGroup[${i}]`, 'an object', g);
    for (const key of Object.keys(g)) {
      if (!['kind', 'count', 'gpus'].includes(key))
        invalid(`instanceGroup[${i}].${key}`, 'absent (known: kind, count, gpus)', key);
    }
    const kind = g.kind ?? 'auto';
    if (!(kind in KINDS)) invalid(`instanceGroup[${i}].kind`, '"gpu", "cpu" or "auto"', g.kind);
    const count = g.count ?? 1;
    if (!isCount(count, 1)) invalid(`instanceGroup[${i}].count`, 'an integer >= 1', g.count);
    const parts = [`count: ${count}`, `kind: ${KINDS[kind]}`];
    if (g.gpus !== undefined) {
      if (kind !== 'gpu') invalid(`instanceGroup[${i}].gpus`, 'given only with kind "gpu"', g.gpus);
      if (!Array.isArray(g.gpus) || g.gpus.length === 0 || !g.gpus.every((x) => isCount(x, 0)))
        invalid(`instanceGroup[${i}].gpus`, 'a non-empty array of GPU ids', g.gpus);
      parts.push(`gpus: [ ${g.gpus.join(', ')} ]`);
    }
    return `  { ${parts.join(' ')} }`;
  });
  return [`instance_group [\n${lines.join(',\n')}\n]`];
}

function dynamicBatchingBlock(
  option: TritonRepositoryOptions['dynamicBatching'],
  maxBatch: number,
): string[] {
  const on = option === undefined ? maxBatch > 0 : option !== false;
  if (!on) return [];
  if (maxBatch === 0)
    invalid('dynamicBatching', 'false or absent when max_batch_size is 0', option);
  const settings = typeof option === 'object' && option !== null ? option : {};
  if (option !== undefined && typeof option !== 'boolean' && typeof option !== 'object')
    invalid(
      'dynamicBatching',
      'a boolean or { maxQueueDelayMicroseconds, preferredBatchSize }',
      option,
    );
  for (const key of Object.keys(settings)) {
    if (!['maxQueueDelayMicroseconds', 'preferredBatchSize'].includes(key))
      invalid(
        `dynamicBatching.${key}`,
        'absent (known: maxQueueDelayMicroseconds, preferredBatchSize)',
        key,
      );
  }
  const delay = settings.maxQueueDelayMicroseconds ?? DEFAULT_QUEUE_DELAY_US;
  if (!isCount(delay, 0))
    invalid('dynamicBatching.maxQueueDelayMicroseconds', 'an integer >= 0', delay);
  const lines = [`  max_queue_delay_microseconds: ${delay}`];
  const preferred = settings.preferredBatchSize;
  if (preferred !== undefined) {
    if (
      !Array.isArray(preferred) ||
      preferred.length === 0 ||
      !preferred.every((b) => isCount(b, 1) && b <= maxBatch)
    )
      invalid(
        'dynamicBatching.preferredBatchSize',
        `a non-empty array of integers in 1..${maxBatch} (max_batch_size)`,
        preferred,
      );
    lines.unshift(`  preferred_batch_size: [ ${preferred.join(', ')} ]`);
  }
  return [`dynamic_batching {\n${lines.join('\n')}\n}`];
}

/**
 * The ebm.js metadata (preprocessing, layout, embedding size, ...) as Triton `parameters`, so a
 * client reads it from Triton's model configuration endpoint (GET /v2/models/<name>/config)
 * exactly as web-infer reads metadata_props from the file.
 */
function parametersBlock(metadata: Record<string, string>): string[] {
  const keys = Object.keys(metadata)
    .filter((k) => k.startsWith('ebmjs.'))
    .sort();
  return keys.map(
    (k) => `parameters {\n  key: ${str(k)}\n  value: { string_value: ${str(metadata[k]!)} }\n}`,
  );
}

/**
 * The config.pbtxt (protobuf text format of Triton's ModelConfig) for an ONNX model on Triton's
 * onnxruntime backend: inputs, outputs, dims and data types read from the model itself.
 */
export function tritonConfig(bytes: Uint8Array, options: TritonRepositoryOptions = {}): string {
  if (typeof options !== 'object' || options === null) invalid('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      throw exportError(
        'INVALID_ARGUMENT',
        `writeTritonRepository: unknown option "${key}"; expected one of ${KNOWN.join(', ')}.`,
        { option: key },
      );
    }
  }
  const name = checkName(options.name);
  const summary = inspectOnnx(bytes);
  const all = [...summary.inputs, ...summary.outputs];
  const batchDimDynamic =
    all.length > 0 && all.every((v) => v.shape.length > 0 && typeof v.shape[0] === 'string');
  const maxBatch = options.maxBatchSize ?? (batchDimDynamic ? DEFAULT_MAX_BATCH : 0);
  if (!isCount(maxBatch, 0)) invalid('maxBatchSize', 'an integer >= 0', options.maxBatchSize);
  if (maxBatch > 0 && !batchDimDynamic) {
    throw exportError(
      'INVALID_ARGUMENT',
      `writeTritonRepository: maxBatchSize ${maxBatch} needs a symbolic first (batch) dimension on every input and output, but the model's are ${all.map((v) => `${v.name} [${v.shape.join(', ')}]`).join(', ')}; export with dynamicBatch: true or pass maxBatchSize: 0.`,
      { option: 'maxBatchSize', received: maxBatch },
    );
  }
  const batched = maxBatch > 0;
  const blocks = [
    `name: ${str(name)}`,
    `platform: "onnxruntime_onnx"`,
    `backend: "onnxruntime"`,
    `max_batch_size: ${maxBatch}`,
    tensorBlock('input', summary.inputs, batched),
    tensorBlock('output', summary.outputs, batched),
    ...dynamicBatchingBlock(options.dynamicBatching, maxBatch),
    ...instanceGroups(options.instanceGroup),
    ...parametersBlock(summary.metadata),
  ];
  return `# Triton model configuration written by ebm.js ${summary.metadata[METADATA_KEYS.version] ?? ''}\n${blocks.join('\n')}\n`;
}

function baseName(path: string): string {
  const file = path.split(/[\\/]/).pop() ?? '';
  return file.replace(/\.onnx$/i, '');
}

/**
 * Writes a Triton model repository entry for an ONNX model (Node only):
 * `<repoDir>/<name>/config.pbtxt` and `<repoDir>/<name>/<version>/model.onnx`, each atomically
 * (the model first, so a Triton polling the repository never sees a config without its model).
 * `model` is the ONNX file's path or its bytes. Throws INVALID_ARGUMENT for a bad option,
 * CORRUPT_FILE for bytes that are not ONNX, IO when a file cannot be read or written.
 */
export async function writeTritonRepository(
  model: string | Uint8Array,
  repoDir: string,
  options: TritonRepositoryOptions = {},
): Promise<TritonRepositoryResult> {
  if (typeof repoDir !== 'string' || repoDir.length === 0)
    invalid('repoDir', 'a non-empty path', repoDir);
  let bytes: Uint8Array;
  let name = options?.name;
  if (typeof model === 'string') {
    try {
      bytes = await readBytes(model);
    } catch (error) {
      if (isEbmError(error)) throw error;
      throw exportError(
        'IO',
        `writeTritonRepository: cannot read "${model}": ${(error as Error).message}`,
        { path: model },
        error,
      );
    }
    name ??= baseName(model);
  } else if (model instanceof Uint8Array) {
    bytes = model;
    if (name === undefined) invalid('name', 'given when the model is passed as bytes', name);
  } else {
    invalid('model', 'an ONNX file path or the model bytes (Uint8Array)', model);
  }
  const version = options?.version ?? 1;
  if (!isCount(version, 1)) invalid('version', 'an integer >= 1', options?.version);
  const config = tritonConfig(bytes, { ...options, name });
  const modelPath = joinPath(repoDir, name!, String(version), 'model.onnx');
  const configPath = joinPath(repoDir, name!, 'config.pbtxt');
  const caller = 'writeTritonRepository';
  await writeFileAtomic(modelPath, bytes, { caller });
  await writeFileAtomic(configPath, new TextEncoder().encode(config), { caller });
  return { configPath, modelPath, config };
}
