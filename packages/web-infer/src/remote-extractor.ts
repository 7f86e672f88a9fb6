import { resolveOptions } from '@ebmjs/contract';
import { readSignal, throwIfAborted } from './abort.js';
import { cosineEnergy, l2Normalize } from './cosine.js';
import { describe, EbmError, type EbmErrorCode, messageOf } from './errors.js';
import type { ExtractOptions, RawValues, TensorInput } from './feature-extractor.js';
import {
  ebmjsParameters,
  type KServeInferRequest,
  type KServeInferResponse,
  type KServeModelMetadata,
  summaryFromKServe,
} from './kserve.js';
import { type ModelInfo, resolveModelInfo } from './metadata.js';
import { type ImageDecoder, prepareSample } from './prepare.js';
import type { Sample } from './preprocess.js';

export interface RemoteFeatureExtractorOptions {
  /** The server's base URL: `http://localhost:8000` for `ebm serve` or Triton's HTTP port. */
  url: string | URL;
  /** The model's name on the server (`/v2/models/<model>`). */
  model: string;
  /** Most samples per infer request (default 32); the server batches requests further. */
  batchSize?: number;
  /** L2-normalize every embedding (default true), as the in-process extractor does. */
  normalize?: boolean;
  /** Extra request headers (an API key, for instance). */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one, in Node 20+ and browsers). */
  fetch?: typeof fetch;
}

/** What the Node and browser entries supply: how images decode there. */
export interface RemotePlatform {
  platform: 'node' | 'browser';
  decode: ImageDecoder;
}

const CODES = new Set<string>([
  'INVALID_ARGUMENT',
  'INVALID_RANK',
  'SHAPE_MISMATCH',
  'INVALID_DTYPE',
  'NON_FINITE',
  'BATCH_TOO_SMALL',
  'BACKEND_UNAVAILABLE',
  'UNSUPPORTED',
  'IO',
  'CORRUPT_FILE',
  'DISPOSED',
  'ABORTED',
]);

function isTensorInput(value: unknown): value is TensorInput {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return false;
  const v = value as Partial<TensorInput>;
  return Array.isArray(v.dims) && typeof v.data === 'object' && v.data !== null;
}

/**
 * The `extract()` API of FeatureExtractor against a KServe v2 server (`ebm serve`, Triton):
 * inputs are decoded and preprocessed here, from the ebm.js metadata the server reports, and
 * sent as FP32 tensors to `/v2/models/<model>/infer`. Moving an app from in-process inference
 * to a server is changing `FeatureExtractor.create(file)` into `RemoteFeatureExtractor.create({ url, model })`.
 */
export class BaseRemoteFeatureExtractor<In> {
  /** Always 'remote': the model runs on the server. */
  readonly device = 'remote' as const;
  /** The server's base URL. */
  readonly url: string;
  /** The model's name on the server. */
  readonly model: string;
  /** What the model takes and how inputs are prepared (from the server's metadata). */
  readonly info: ModelInfo;
  /** Most samples per infer request. */
  readonly batchSize: number;
  private readonly normalize: boolean;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;
  private readonly platform: RemotePlatform;
  private disposedFlag = false;
  private readonly counters = { requests: 0, samples: 0 };

  protected constructor(state: RemoteState) {
    this.url = state.url;
    this.model = state.model;
    this.info = state.info;
    this.batchSize = state.batchSize;
    this.normalize = state.normalize;
    this.headers = state.headers;
    this.fetchImpl = state.fetch;
    this.platform = state.platform;
  }

  /** Reads the model's metadata from the server; the entries' `create` calls this. */
  protected static async connect(
    platform: RemotePlatform,
    options: RemoteFeatureExtractorOptions,
  ): Promise<RemoteState> {
    const o = resolveOptions('RemoteFeatureExtractor.create', options, {
      url: undefined as string | URL | undefined,
      model: undefined as string | undefined,
      batchSize: 32,
      normalize: true,
      headers: {} as Record<string, string>,
      fetch: undefined as typeof fetch | undefined,
    });
    if (!(typeof o.url === 'string' || o.url instanceof URL) || !/^https?:/i.test(String(o.url))) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `RemoteFeatureExtractor.create: option "url" must be an http(s) URL, received ${describe(o.url)}.`,
        { option: 'url', received: describe(o.url) },
      );
    }
    if (typeof o.model !== 'string' || o.model === '' || /[/?#]/.test(o.model)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `RemoteFeatureExtractor.create: option "model" must be a model name, received ${describe(o.model)}.`,
        { option: 'model', received: describe(o.model) },
      );
    }
    if (!(Number.isInteger(o.batchSize) && o.batchSize > 0)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `RemoteFeatureExtractor.create: option "batchSize" must be a positive integer, received ${describe(o.batchSize)}.`,
        { option: 'batchSize', received: o.batchSize },
      );
    }
    const fetchImpl = o.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') {
      throw new EbmError('UNSUPPORTED', 'RemoteFeatureExtractor: no global fetch; pass "fetch".');
    }
    const url = String(o.url).replace(/\/+$/, '');
    const base = `${url}/v2/models/${encodeURIComponent(o.model)}`;
    const call = (path: string) =>
      request(fetchImpl, `${base}${path}`, { headers: o.headers }, undefined);
    const meta = (await call('')) as KServeModelMetadata;
    let metadata = ebmjsParameters(meta.parameters);
    if (Object.keys(metadata).length === 0) {
      // Triton reports the ebm.js preprocessing in the model config's parameters.
      const config = await call('/config').catch(() => undefined);
      metadata = ebmjsParameters((config as { parameters?: unknown } | undefined)?.parameters);
    }
    const where = `${base}`;
    let info: ModelInfo;
    try {
      info = resolveModelInfo(summaryFromKServe(meta, metadata, where));
    } catch (error) {
      if (error instanceof EbmError) throw new EbmError(error.code, `${where}: ${error.message}`);
      throw error;
    }
    return {
      url,
      model: o.model,
      info,
      batchSize: o.batchSize,
      normalize: o.normalize !== false,
      headers: o.headers,
      fetch: fetchImpl,
      platform,
    };
  }

  /** Size of one embedding, when the model declares it. */
  get embeddingDim(): number | null {
    return this.info.embeddingDim;
  }

  /** Infer requests sent so far and the samples they carried. */
  get stats(): { requests: number; samples: number } {
    return { ...this.counters };
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** As `FeatureExtractor.extract`: one input, a list of inputs, or a model-ready tensor. */
  extract(input: In | RawValues, options?: ExtractOptions): Promise<Float32Array>;
  extract(inputs: readonly (In | RawValues)[], options?: ExtractOptions): Promise<Float32Array[]>;
  extract(batch: TensorInput, options?: ExtractOptions): Promise<Float32Array[]>;
  async extract(input: unknown, options?: ExtractOptions): Promise<Float32Array | Float32Array[]> {
    this.assertUsable();
    const { signal: given } = resolveOptions('extract', options, { signal: undefined });
    const signal = readSignal('extract', given);
    if (isTensorInput(input)) {
      throwIfAborted(signal, 'extract', 0, input.dims[0] ?? 0, 'samples');
      const data = input.data instanceof Float32Array ? input.data : Float32Array.from(input.data);
      return this.infer(data, [...input.dims], signal);
    }
    const list = Array.isArray(input) ? input : [input];
    const rows: Float32Array[] = [];
    for (let start = 0; start < list.length; start += this.batchSize) {
      throwIfAborted(signal, 'extract', start, list.length, 'inputs');
      const where = (i: number) => (Array.isArray(input) ? `inputs[${start + i}]` : 'input');
      const samples = await Promise.all(
        list
          .slice(start, start + this.batchSize)
          .map((x, i) =>
            prepareSample(x, this.info, this.platform.decode, this.platform.platform, where(i)),
          ),
      );
      throwIfAborted(signal, 'extract', start, list.length, 'inputs');
      rows.push(...(await this.inferSamples(samples, signal)));
    }
    return Array.isArray(input) ? rows : rows[0]!;
  }

  /** The cosine energy of two inputs, −cos(f(a), f(b)) / temperature. */
  async energy(a: In | RawValues, b: In | RawValues, temperature = 1): Promise<number> {
    const [ea, eb] = await this.extract([a, b]);
    return cosineEnergy(ea!, eb!, temperature);
  }

  /** Nothing to release on the client; later calls reject with DISPOSED. */
  async dispose(): Promise<void> {
    this.disposedFlag = true;
  }

  private assertUsable(): void {
    if (this.disposedFlag) {
      throw new EbmError(
        'DISPOSED',
        `RemoteFeatureExtractor (${this.model} at ${this.url}) is disposed; create a new one.`,
      );
    }
  }

  /** One request per group of equal sample shapes (free-size models), rows back in order. */
  private async inferSamples(samples: Sample[], signal?: AbortSignal): Promise<Float32Array[]> {
    const groups = new Map<string, number[]>();
    samples.forEach((s, i) => {
      const key = s.dims.join('x');
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const out: Float32Array[] = new Array(samples.length);
    for (const idx of groups.values()) {
      const first = samples[idx[0]!]!;
      const data = new Float32Array(first.data.length * idx.length);
      idx.forEach((i, j) => data.set(samples[i]!.data, j * first.data.length));
      const rows = await this.infer(data, [idx.length, ...first.dims], signal);
      idx.forEach((i, j) => {
        out[i] = rows[j]!;
      });
    }
    return out;
  }

  private async infer(
    data: Float32Array,
    dims: number[],
    signal?: AbortSignal,
  ): Promise<Float32Array[]> {
    const body: KServeInferRequest = {
      inputs: [
        { name: this.info.inputName, shape: dims, datatype: 'FP32', data: Array.from(data) },
      ],
      outputs: [{ name: this.info.outputName }],
    };
    const url = `${this.url}/v2/models/${encodeURIComponent(this.model)}/infer`;
    const response = (await request(
      this.fetchImpl,
      url,
      {
        method: 'POST',
        headers: { ...this.headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      signal,
    )) as KServeInferResponse;
    this.counters.requests++;
    this.counters.samples += dims[0] ?? 0;
    const n = dims[0] ?? 0;
    const out =
      response?.outputs?.find((o) => o.name === this.info.outputName) ?? response?.outputs?.[0];
    const values = out === undefined ? undefined : (out.data as unknown[]).flat(Infinity);
    if (out === undefined || values === undefined || (n > 0 && values.length % n !== 0)) {
      throw new EbmError(
        'CORRUPT_FILE',
        `${url}: expected an output tensor with ${n} rows, received ${JSON.stringify(response)?.slice(0, 200)}.`,
      );
    }
    const per = n === 0 ? 0 : values.length / n;
    const rows: Float32Array[] = [];
    for (let i = 0; i < n; i++) {
      const row = Float32Array.from(values.slice(i * per, (i + 1) * per) as number[]);
      rows.push(this.normalize ? l2Normalize(row) : row);
    }
    return rows;
  }
}

export interface RemoteState {
  url: string;
  model: string;
  info: ModelInfo;
  batchSize: number;
  normalize: boolean;
  headers: Record<string, string>;
  fetch: typeof fetch;
  platform: RemotePlatform;
}

/** A JSON request; a server error becomes the EbmError it reports (or IO), network failures IO. */
async function request(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchImpl(url, { ...init, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (signal?.aborted) throwIfAborted(signal, 'extract', 0, 1, 'requests');
    throw new EbmError(
      'IO',
      `Could not reach ${url}: ${messageOf(error)}.`,
      { url },
      { cause: error },
    );
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    // ebm serve: { error: { code, message } }; KServe/Triton: { error: "message" }.
    const error = (json as { error?: unknown } | undefined)?.error;
    const code =
      typeof error === 'object' && error !== null && CODES.has((error as { code: string }).code)
        ? (error as { code: EbmErrorCode }).code
        : response.status === 404
          ? 'INVALID_ARGUMENT'
          : 'IO';
    const message =
      typeof error === 'string'
        ? error
        : typeof (error as { message?: unknown })?.message === 'string'
          ? (error as { message: string }).message
          : text.slice(0, 200) || response.statusText;
    throw new EbmError(code, `${url}: HTTP ${response.status}: ${message}`, {
      url,
      status: response.status,
    });
  }
  if (json === undefined) {
    throw new EbmError(
      'CORRUPT_FILE',
      `${url}: expected a JSON response, received ${describe(text)}.`,
      {
        url,
      },
    );
  }
  return json;
}
