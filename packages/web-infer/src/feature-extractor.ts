import { resolveOptions } from '@ebmjs/contract';
import { readSignal, throwIfAborted } from './abort.js';
import { cosineEnergy, l2Normalize } from './cosine.js';
import {
  type Device,
  type DeviceAttempt,
  type DeviceOption,
  type DeviceSupport,
  type OpenedSession,
  openOnDevice,
  type RuntimeName,
} from './devices.js';
import { describe, EbmError, messageOf } from './errors.js';
import { type ModelInfo, type Preprocessing, readModelInfo } from './metadata.js';
import { prepareSample } from './prepare.js';
import type { PixelData, Sample } from './preprocess.js';
import type { OrtRuntime } from './runtime-config.js';
import { SessionQueue } from './session-queue.js';

export interface FeatureExtractorOptions {
  /** 'auto' (default): cuda then cpu in Node, webgpu then wasm in the browser. */
  device?: DeviceOption;
  /**
   * @deprecated Process-wide: use `configureRuntime({ threads })` before the first extractor.
   * Still honoured when nothing configured the runtime yet; a value different from the
   * configured one is INVALID_ARGUMENT.
   */
  threads?: number;
  /** Most samples per session run; default 32, or the batch size a fixed-batch model declares. */
  batchSize?: number;
  /** L2-normalize every embedding (default true). */
  normalize?: boolean;
  /** Layout of a rank-4 input, for models without ebm.js metadata. */
  layout?: 'NHWC' | 'NCHW';
  /** Overrides the preprocessing the model's metadata declares. */
  preprocessing?: Preprocessing;
  /**
   * @deprecated Process-wide: use `configureRuntime({ wasmPaths })` before the first extractor.
   * Still honoured when nothing configured the runtime yet; a value different from the
   * configured one is INVALID_ARGUMENT.
   */
  wasmPaths?: string | Record<string, string>;
}

/** Per-call options of `extract`. */
export interface ExtractOptions {
  /**
   * Stops the call: checked before each batch is decoded and submitted. Batches already
   * submitted finish (at most two), then the call rejects with ABORTED; the extractor stays usable.
   */
  signal?: AbortSignal;
}

/** Values with the model's input size in its layout (one sample); preprocessing is applied. */
export type RawValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Uint8ClampedArray;

/** A model-ready batch: an ORT Tensor or `{ data, dims }` with the batch first; fed unchanged. */
export interface TensorInput {
  data: ArrayLike<number>;
  dims: readonly number[];
  type?: string;
  location?: string;
}

/** Platform hooks the Node and browser entries provide; `In` is the platform's image input type. */
// biome-ignore lint/correctness/noUnusedVariables: In ties a platform to its extractor's input type.
export interface ExtractorPlatform<In> {
  devices: DeviceSupport;
  /** The process-wide ONNX Runtime settings sessions open with. */
  runtime: OrtRuntime;
  /** Reads a model source into bytes; `name` describes it in messages. */
  readModel(source: unknown): Promise<{ bytes: Uint8Array; name: string }>;
  /** Decodes a platform image input; undefined when `input` is not one it knows. */
  decode(input: unknown, where: string): Promise<PixelData> | undefined;
}

const DEFAULT_BATCH = 32;

function isTensorInput(value: unknown): value is TensorInput {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return false;
  const v = value as Partial<TensorInput>;
  return Array.isArray(v.dims) && typeof v.data === 'object' && v.data !== null;
}

function positiveInt(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && Number.isInteger(value) && value > 0)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `FeatureExtractor: option "${name}" must be a positive integer, received ${describe(value)}.`,
      { option: name, received: value },
    );
  }
  return value;
}

const KNOWN_OPTIONS = new Set([
  'device',
  'threads',
  'batchSize',
  'normalize',
  'layout',
  'preprocessing',
  'wasmPaths',
]);

/**
 * Feature extraction from an ONNX encoder (ideally one exported by @ebmjs/export, whose metadata
 * says how to preprocess). One API on onnxruntime-node and onnxruntime-web; the Node and browser
 * entries subclass it with their input types and `create`.
 */
export class BaseFeatureExtractor<In> {
  /** The device the session runs on. */
  readonly device: Device;
  /** The ONNX Runtime package serving it. */
  readonly runtime: RuntimeName;
  /** Devices 'auto' tried before this one, with why each failed. */
  readonly fallbacks: readonly DeviceAttempt[];
  /** What the model takes and how inputs are prepared. */
  readonly info: ModelInfo;
  /** Most samples per session run. */
  readonly batchSize: number;
  /** Describes the model source (path, URL, "bytes"). */
  readonly source: string;
  private readonly normalize: boolean;
  private readonly queue: SessionQueue;
  private readonly opened: OpenedSession;
  private readonly platform: ExtractorPlatform<In>;
  private disposedFlag = false;
  private readonly counters = { runs: 0, samples: 0 };

  protected constructor(state: ExtractorState<In>) {
    this.platform = state.platform;
    this.opened = state.opened;
    this.device = state.opened.device;
    this.runtime = state.opened.runtime;
    this.fallbacks = state.fallbacks;
    this.info = state.info;
    this.source = state.source;
    this.normalize = state.normalize;
    this.batchSize = state.batchSize;
    this.queue = new SessionQueue(
      (data, count, dims) => this.runBatch(data, count, dims),
      state.batchSize,
    );
  }

  /** Reads, validates and opens a model; the entries' `create` calls this. */
  protected static async open<In>(
    platform: ExtractorPlatform<In>,
    source: unknown,
    options: FeatureExtractorOptions = {},
  ): Promise<ExtractorState<In>> {
    if (typeof options !== 'object' || options === null) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `FeatureExtractor.create: options must be an object, received ${describe(options)}.`,
      );
    }
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) {
        throw new EbmError(
          'INVALID_ARGUMENT',
          `FeatureExtractor.create: unknown option "${key}"; expected one of ${[...KNOWN_OPTIONS].join(', ')}.`,
          { option: key },
        );
      }
    }
    // Deprecated process-wide options: checked now, applied when the session opens.
    const runtimeRequest = { threads: options.threads, wasmPaths: options.wasmPaths };
    positiveInt('threads', options.threads);
    const requestedBatch = positiveInt('batchSize', options.batchSize);
    if (options.normalize !== undefined && typeof options.normalize !== 'boolean') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `FeatureExtractor.create: option "normalize" must be a boolean, received ${describe(options.normalize)}.`,
        { option: 'normalize', received: options.normalize },
      );
    }
    const { bytes, name } = await platform.readModel(source);
    let info: ModelInfo;
    try {
      info = readModelInfo(bytes, {
        ...(options.layout === undefined ? {} : { layout: options.layout }),
        ...(options.preprocessing === undefined ? {} : { preprocessing: options.preprocessing }),
      });
    } catch (error) {
      if (error instanceof EbmError) {
        throw new EbmError(error.code, `${name}: ${error.message}`, {
          ...error.details,
          source: name,
        });
      }
      throw error;
    }
    platform.runtime.request('FeatureExtractor.create', runtimeRequest);
    const settings = platform.runtime.start();
    const opened = await openOnDevice(
      platform.devices,
      bytes,
      options.device ?? 'auto',
      settings,
    ).catch((error: unknown) => {
      if (error instanceof EbmError) {
        throw new EbmError(
          error.code,
          `${name}: ${error.message}`,
          {
            ...error.details,
            source: name,
          },
          { cause: error.cause },
        );
      }
      throw error;
    });
    if (
      opened.session.inputNames[0] !== undefined &&
      opened.session.inputNames[0] !== info.inputName
    ) {
      info = { ...info, inputName: opened.session.inputNames[0] };
    }
    // A fixed-batch model runs exactly its batch size; shorter batches are padded.
    const batchSize = info.fixedBatch ?? requestedBatch ?? DEFAULT_BATCH;
    return {
      platform,
      opened,
      fallbacks: opened.fallbacks,
      info,
      source: name,
      normalize: options.normalize ?? true,
      batchSize,
    };
  }

  /** Size of one embedding, when the model declares it. */
  get embeddingDim(): number | null {
    return this.info.embeddingDim;
  }

  /** Session runs so far and the samples they embedded (padding not counted). */
  get stats(): { runs: number; samples: number } {
    return { ...this.counters };
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /**
   * Embeds one input (returns one Float32Array), a list of inputs (returns one per input, in
   * order, batched automatically) or a model-ready tensor whose first axis is the batch (returns
   * one per row). Concurrent calls are safe: they queue on the session and share batches.
   */
  extract(input: In | RawValues, options?: ExtractOptions): Promise<Float32Array>;
  extract(inputs: readonly (In | RawValues)[], options?: ExtractOptions): Promise<Float32Array[]>;
  extract(batch: TensorInput, options?: ExtractOptions): Promise<Float32Array[]>;
  async extract(input: unknown, options?: ExtractOptions): Promise<Float32Array | Float32Array[]> {
    this.assertUsable();
    const { signal: given } = resolveOptions('extract', options, { signal: undefined });
    const signal = readSignal('extract', given);
    if (isTensorInput(input)) {
      const samples = this.tensorSamples(input);
      throwIfAborted(signal, 'extract', 0, samples.length, 'samples');
      return this.queue.submit(samples);
    }
    if (Array.isArray(input)) return this.extractMany(input, signal);
    throwIfAborted(signal, 'extract', 0, 1, 'inputs');
    const sample = await this.toSample(input, 'input');
    throwIfAborted(signal, 'extract', 0, 1, 'inputs');
    const [row] = await this.queue.submit([sample]);
    return row!;
  }

  /**
   * One input made model-ready without running the model: decoded, resized, preprocessed and
   * laid out as `extract` would feed it, with a batch axis of 1. A server uses it to validate
   * and decode each request on its own, then batches the tensors (`extract({ data, dims })`).
   */
  async prepare(
    input: In | RawValues,
    where = 'input',
  ): Promise<{ data: Float32Array; dims: number[] }> {
    this.assertUsable();
    if (isTensorInput(input) || Array.isArray(input)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: prepare takes one image or typed array, received ${describe(input)}.`,
        { received: describe(input) },
      );
    }
    const sample = await this.toSample(input, where);
    return { data: sample.data, dims: [1, ...sample.dims] };
  }

  /**
   * The cosine energy of two inputs, F = −cos(f(a), f(b)) / temperature: low when the encoder
   * maps them close together.
   */
  async energy(a: In | RawValues, b: In | RawValues, temperature = 1): Promise<number> {
    const [ea, eb] = await this.extract([a, b]);
    return cosineEnergy(ea!, eb!, temperature);
  }

  /**
   * Releases the session. Queued calls reject with DISPOSED; the batch running now completes.
   * Safe to call twice.
   */
  async dispose(): Promise<void> {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    await this.queue.close(
      new EbmError(
        'DISPOSED',
        `FeatureExtractor (${this.source}) was disposed before this call ran.`,
      ),
    );
    await this.opened.session.release();
  }

  private assertUsable(): void {
    if (this.disposedFlag) {
      throw new EbmError(
        'DISPOSED',
        `FeatureExtractor (${this.source}) is disposed; create a new one.`,
        { source: this.source },
      );
    }
  }

  private async extractMany(
    inputs: readonly unknown[],
    signal: AbortSignal | undefined,
  ): Promise<Float32Array[]> {
    // Decode a chunk while the previous one runs, but keep at most two chunks in memory.
    const chunks: Promise<Float32Array[]>[] = [];
    const aborted = (start: number) =>
      throwIfAborted(signal, 'extract', start, inputs.length, 'inputs');
    aborted(0);
    try {
      for (let start = 0; start < inputs.length; start += this.batchSize) {
        if (chunks.length >= 2) await chunks[chunks.length - 2];
        aborted(start);
        const part = inputs.slice(start, start + this.batchSize);
        const samples = await Promise.all(
          part.map((x, i) => this.toSample(x, `inputs[${start + i}]`)),
        );
        // Checked again after decoding, so a signal aborted meanwhile runs no further batch.
        aborted(start);
        this.assertUsable();
        const result = this.queue.submit(samples);
        result.catch(() => {}); // awaited below; this only stops an early unhandled rejection
        chunks.push(result);
      }
    } catch (error) {
      await Promise.allSettled(chunks);
      throw error;
    }
    return (await Promise.all(chunks)).flat();
  }

  private toSample(input: unknown, where: string): Promise<Sample> {
    return prepareSample(
      input,
      this.info,
      this.platform.decode,
      this.platform.devices.platform,
      where,
    );
  }

  private tensorSamples(t: TensorInput): Sample[] {
    const where = 'tensor input';
    if (t.location !== undefined && t.location !== 'cpu' && t.location !== 'cpu-pinned') {
      throw new EbmError(
        'UNSUPPORTED',
        `${where}: the tensor lives on "${t.location}"; download it first (await tensor.getData()).`,
        { location: t.location },
      );
    }
    if (t.type !== undefined && t.type !== 'float32') {
      throw new EbmError(
        'UNSUPPORTED',
        `${where}: expected a float32 tensor, received ${t.type}.`,
        { expected: 'float32', received: t.type },
      );
    }
    const dims = [...t.dims];
    const shape = this.info.inputShape;
    const fits =
      dims.length === shape.length &&
      dims.every(
        (d, i) => Number.isInteger(d) && d >= 0 && (i === 0 || shape[i] === null || shape[i] === d),
      );
    const size = dims.reduce((a, b) => a * b, 1);
    if (!fits || t.data.length !== size) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${where}: expected dims [batch, ${shape
          .slice(1)
          .map((d) => d ?? '?')
          .join(
            ', ',
          )}] (${this.info.layout}) with matching data, received dims [${dims.join(', ')}] and ${t.data.length} values.`,
        { expected: shape, received: dims, values: t.data.length },
      );
    }
    const n = dims[0]!;
    const per = n === 0 ? 0 : size / n;
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    return Array.from({ length: n }, (_, i) => ({
      data: data.subarray(i * per, (i + 1) * per),
      dims: dims.slice(1),
    }));
  }

  private async runBatch(
    data: Float32Array,
    count: number,
    dims: number[],
  ): Promise<Float32Array[]> {
    const per = data.length / count;
    const padded = this.info.fixedBatch ?? count;
    let feed = data;
    if (padded > count) {
      feed = new Float32Array(per * padded);
      feed.set(data);
    }
    const { session, Tensor } = this.opened;
    const tensor = new Tensor('float32', feed, [padded, ...dims]);
    this.counters.runs++;
    this.counters.samples += count;
    let outputs: Record<string, { data: unknown; dims: readonly number[]; dispose?(): void }>;
    try {
      outputs = await session.run({ [this.info.inputName]: tensor });
    } catch (error) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `The model rejected a batch of ${count} sample(s) of shape [${dims.join(', ')}]: ${messageOf(error)}`,
        { dims: [padded, ...dims] },
        { cause: error },
      );
    }
    const out = outputs[this.info.outputName] ?? Object.values(outputs)[0];
    try {
      if (out === undefined || !(out.data instanceof Float32Array)) {
        throw new EbmError(
          'UNSUPPORTED',
          `The model's output "${this.info.outputName}" is not a float32 tensor.`,
        );
      }
      const rowSize = out.data.length / padded;
      const rows: Float32Array[] = [];
      for (let i = 0; i < count; i++) {
        const row = out.data.slice(i * rowSize, (i + 1) * rowSize);
        rows.push(this.normalize ? l2Normalize(row) : row);
      }
      return rows;
    } finally {
      for (const t of Object.values(outputs)) t.dispose?.();
    }
  }
}

export interface ExtractorState<In> {
  platform: ExtractorPlatform<In>;
  opened: OpenedSession;
  fallbacks: DeviceAttempt[];
  info: ModelInfo;
  source: string;
  normalize: boolean;
  batchSize: number;
}
