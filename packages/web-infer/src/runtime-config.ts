import { resolveOptions } from '@ebmjs/contract';
import type { SessionSettings } from './devices.js';
import { describe, EbmError } from './errors.js';

/**
 * The ONNX Runtime settings that hold for the whole process (a JavaScript realm): onnxruntime-web
 * reads `ort.env.wasm` once, when its wasm runtime starts, so they cannot differ per extractor.
 */
export interface RuntimeConfig {
  /**
   * Threads: onnxruntime-web's wasm threads (`ort.env.wasm.numThreads`; in Node 1 unless set, in
   * a browser its own choice) and the intra-op threads of every onnxruntime-node session.
   */
  threads?: number;
  /** Where onnxruntime-web fetches its .wasm/.mjs files (`ort.env.wasm.wasmPaths`); a URL prefix ending in "/". */
  wasmPaths?: string | Record<string, string>;
}

const KEYS = ['threads', 'wasmPaths'] as const;
type Key = (typeof KEYS)[number];

function checkValues(where: string, config: RuntimeConfig, option: (k: Key) => string): void {
  const { threads, wasmPaths } = config;
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: ${option('threads')} must be a positive integer, received ${describe(threads)}.`,
      { option: 'threads', received: threads },
    );
  }
  const pathsOk =
    wasmPaths === undefined ||
    typeof wasmPaths === 'string' ||
    (typeof wasmPaths === 'object' &&
      wasmPaths !== null &&
      !Array.isArray(wasmPaths) &&
      Object.values(wasmPaths).every((v) => typeof v === 'string'));
  if (!pathsOk) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: ${option('wasmPaths')} must be a URL prefix string or an object of file URLs, received ${describe(wasmPaths)}.`,
      { option: 'wasmPaths', received: describe(wasmPaths) },
    );
  }
}

function same(key: Key, a: RuntimeConfig, b: RuntimeConfig): boolean {
  const x = a[key];
  const y = b[key];
  if (typeof x !== 'object' || typeof y !== 'object') return x === y;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => x[k] === y[k]);
}

/** `threads 2, wasmPaths "/ort/"`, or the defaults, for messages. */
function show(config: RuntimeConfig, keys: readonly Key[] = KEYS): string {
  return keys
    .map((k) => `${k} ${config[k] === undefined ? '(runtime default)' : JSON.stringify(config[k])}`)
    .join(', ');
}

/**
 * Holds the process-wide settings: set once by `configureRuntime` (or, deprecated, by the first
 * extractor's `threads`/`wasmPaths`), fixed when the first session starts. Asking for different
 * values afterwards is an error, where ONNX Runtime itself would ignore them silently.
 */
export class OrtRuntime {
  private config: RuntimeConfig | null = null;
  private setBy = '';
  private started = false;

  /** `configureRuntime`: replaces the settings before the first session; afterwards they must agree. */
  configure(given: RuntimeConfig): void {
    const where = 'configureRuntime';
    const config = resolveOptions(where, given, { threads: undefined, wasmPaths: undefined });
    checkValues(where, config, (k) => `option "${k}"`);
    const wanted: RuntimeConfig = { threads: config.threads, wasmPaths: config.wasmPaths };
    if (this.started) {
      const current = this.config ?? {};
      if (KEYS.every((k) => same(k, current, wanted))) return;
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: ONNX Runtime already started with ${show(current)} (${this.setBy}); received ${show(wanted)}. These settings are process-wide: call configureRuntime once, before the first FeatureExtractor.create.`,
        { configured: current, requested: wanted },
      );
    }
    this.config = wanted;
    this.setBy = 'set by configureRuntime';
  }

  /**
   * The deprecated per-extractor `threads`/`wasmPaths`: they configure the runtime when nothing
   * has, and must otherwise equal what is configured.
   */
  request(where: string, requested: RuntimeConfig): void {
    const keys = KEYS.filter((k) => requested[k] !== undefined);
    if (keys.length === 0) return;
    checkValues(where, requested, (k) => `option "${k}"`);
    if (this.config === null && !this.started) {
      this.config = Object.fromEntries(keys.map((k) => [k, requested[k]]));
      this.setBy = 'set by the options of an earlier FeatureExtractor.create';
      return;
    }
    const current = this.config ?? {};
    const differ = keys.filter((k) => !same(k, current, requested));
    if (differ.length === 0) return;
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: ${differ.map((k) => `"${k}"`).join(' and ')} ${differ.length === 1 ? 'is' : 'are'} process-wide and already configured: ${show(current, differ)} (${this.setBy}); received ${show(requested, differ)}. Call configureRuntime({ ${differ.join(', ')} }) once before the first extractor instead of passing ${differ.length === 1 ? 'it' : 'them'} to create.`,
      { configured: current, requested },
    );
  }

  /** The settings a session opens with; from now on they are fixed. */
  start(): SessionSettings {
    if (!this.started && this.config === null) this.setBy = 'the defaults the first session used';
    this.started = true;
    return { threads: this.config?.threads, wasmPaths: this.config?.wasmPaths };
  }
}

/** The one store of this realm, shared by every extractor. */
export const processRuntime = new OrtRuntime();

/**
 * Sets the process-wide ONNX Runtime settings (`threads`, `wasmPaths`). Call it once, before the
 * first `FeatureExtractor.create`; calling it again before any session starts replaces the
 * settings, and after one started it throws INVALID_ARGUMENT unless the values are the same.
 */
export function configureRuntime(config: RuntimeConfig): void {
  processRuntime.configure(config);
}
