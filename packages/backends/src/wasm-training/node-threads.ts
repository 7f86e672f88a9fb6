import * as tf from '@tensorflow/tfjs-core';

/**
 * The threaded-SIMD build of tfjs-backend-wasm in Node.
 *
 * tfjs 4.22 never picks that build in Node: its `WASM_HAS_MULTITHREAD_SUPPORT` flag returns
 * false there (tfjs#3830) and its loader hands Emscripten Blob URLs, which Node's worker_threads
 * cannot start. The Emscripten glue itself supports Node. So, around the backend's
 * initialisation only, this module:
 * 1. sets the flag to true;
 * 2. exposes a `Worker` global that starts the pthread workers from the worker source that
 *    tfjs-backend-wasm ships (`eval`), and points their `importScripts` at the threaded glue
 *    file instead of a Blob;
 * 3. makes `os.cpus()` report 2·threads entries: the wasm module sizes XNNPACK's pool once, at
 *    start-up, as min(requested, cores / 2, 8) — it assumes two hyper-threads per core;
 * and afterwards restores the global and `os.cpus`, and unreferences the pool's workers so they
 * never keep the process alive.
 */

export interface WasmThreadsResult {
  /** Threads XNNPACK computes with (1 when the threaded build could not be used). */
  threads: number;
  /** Whether the threaded-SIMD build is the one running. */
  threaded: boolean;
  /** Why fewer threads than requested are used, when that is the case. */
  note?: string;
}

/** Emscripten starts 8 pthread workers up front (PTHREAD_POOL_SIZE); more would start lazily. */
export const MAX_WASM_THREADS = 8;

interface NodeModules {
  os: { cpus: () => unknown[] };
  Worker: new (filename: string, options?: Record<string, unknown>) => NodeWorkerLike;
  resolve: (specifier: string) => string;
  workerSource: string;
  execArgv: readonly string[];
}

interface NodeWorkerLike {
  postMessage(message: unknown, transfer?: unknown): void;
  unref(): void;
}

const importNode = (specifier: string): Promise<Record<string, unknown>> =>
  import(/* @vite-ignore */ specifier) as Promise<Record<string, unknown>>;

async function loadNodeModules(): Promise<NodeModules> {
  const os = (await importNode('node:os')) as { default?: NodeModules['os'] };
  const workerThreads = (await importNode('node:worker_threads')) as {
    Worker: NodeModules['Worker'];
  };
  const nodeModule = (await importNode('node:module')) as {
    createRequire: (from: string) => { resolve(s: string): string; (s: string): unknown };
  };
  const require = nodeModule.createRequire(import.meta.url);
  const worker =
    require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
      wasmWorkerContents: string;
    };
  return {
    os: os.default as NodeModules['os'],
    Worker: workerThreads.Worker,
    resolve: (s) => require.resolve(s),
    // tfjs escapes the newlines before making its Blob; `eval` needs the same.
    workerSource: worker.wasmWorkerContents.replace(/\n/g, '\\n'),
    execArgv: ((await importNode('node:process')) as { execArgv: string[] }).execArgv,
  };
}

/**
 * The worker source is CommonJS (it calls `require`). A worker inherits the parent's execArgv,
 * and with `--input-type=module` (`node --input-type=module -e`, a script piped on stdin) an
 * eval'd worker is parsed as an ES module, where `require` is undefined. That flag, and the
 * parent's own `-e`/`-p` script, are left out.
 */
export function workerExecArgv(parent: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const arg = parent[i]!;
    if (/^--(input-type|eval|print)=/.test(arg)) continue;
    if (/^(--input-type|-e|--eval|-p|--print|-pe)$/.test(arg)) {
      i++; // and its value
      continue;
    }
    kept.push(arg);
  }
  return kept;
}

/** Whether this Node can run the threaded build (shared memory and wasm atomics). */
export function nodeSupportsWasmThreads(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    // A module with a shared memory and an atomic load (wasm-feature-detect's threads probe).
    return WebAssembly.validate(
      new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9,
        0, 65, 0, 254, 16, 2, 0, 26, 11,
      ]),
    );
  } catch {
    return false;
  }
}

/**
 * Initialises the wasm backend (`tf.setBackend('wasm')`) in Node with `threads` XNNPACK threads
 * on the threaded-SIMD build. `setThreadsCount` is tfjs-backend-wasm's own setter. Must run
 * before the wasm backend is first initialised; with threads = 1 it only sets the backend.
 */
export async function initNodeWasmBackend(
  threads: number,
  setThreadsCount: (n: number) => void,
): Promise<boolean> {
  if (threads <= 1 || !nodeSupportsWasmThreads()) {
    if (threads >= 1) setThreadsCount(1);
    return tf.setBackend('wasm');
  }
  const count = Math.min(threads, MAX_WASM_THREADS);
  const node = await loadNodeModules();
  const glue = node.resolve(
    '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js',
  );
  const BaseWorker = node.Worker;
  class PthreadWorker extends BaseWorker {
    constructor(filename: string, options?: Record<string, unknown>) {
      if (typeof filename === 'string' && filename.startsWith('blob:')) {
        super(node.workerSource, {
          ...options,
          eval: true,
          execArgv: workerExecArgv(node.execArgv),
        });
      } else {
        super(filename, options);
      }
    }
    override postMessage(message: unknown, transfer?: unknown): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      // The worker evaluates `urlOrBlob` as the glue script; give it the file, not a Blob.
      const fixed =
        m !== null && m.cmd === 'load' && typeof m.urlOrBlob !== 'string'
          ? { ...m, urlOrBlob: glue }
          : message;
      super.postMessage(fixed, transfer);
    }
  }
  const g = globalThis as Record<string, unknown>;
  const previousWorker = Object.getOwnPropertyDescriptor(g, 'Worker');
  const previousCpus = node.os.cpus;
  Object.defineProperty(g, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    // The glue assigns worker_threads' Worker here; the Blob-aware one must stay.
    set: () => {},
  });
  node.os.cpus = () => {
    const one = previousCpus()[0];
    return Array.from({ length: 2 * count }, () => one);
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(count);
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch {
    ok = false;
  } finally {
    node.os.cpus = previousCpus;
    if (previousWorker !== undefined) Object.defineProperty(g, 'Worker', previousWorker);
    else delete g['Worker'];
    const pthread = (tf.findBackend('wasm') as { wasm?: { PThread?: PThreadLike } } | null)?.wasm
      ?.PThread;
    for (const worker of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) {
      worker.unref();
    }
  }
  if (ok) return true;
  // The threaded build did not start (an unusual Node build or sandbox): the SIMD build will.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
  return tf.setBackend('wasm');
}

/** Whether the running wasm backend is the threaded build (its thread count: getThreadsCount). */
export function wasmThreading(): { threaded: boolean } {
  const backend = tf.findBackend('wasm') as { wasm?: Record<string, unknown> } | null;
  return { threaded: backend?.wasm !== undefined && 'PThread' in backend.wasm };
}

interface PThreadLike {
  runningWorkers: NodeWorkerLike[];
  unusedWorkers: NodeWorkerLike[];
}
