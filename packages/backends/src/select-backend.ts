import { EbmError } from '@ebmjs/contract';
import * as tf from '@tensorflow/tfjs-core';
import {
  type BackendCandidate,
  BROWSER_BACKEND_ORDER,
  DEFAULT_LOADERS,
  importOptional,
  NODE_BACKEND_ORDER,
  parseBackendName,
  TFJS_NAME,
} from './candidates.js';
import { refuseUnverifiedGpu, tensorflowDevice } from './tensorflow-device.js';
import {
  initNodeWasmBackend,
  MAX_WASM_THREADS,
  wasmThreading,
} from './wasm-training/node-threads.js';
import { registerWasmTrainingKernels } from './wasm-training/register.js';
import { startNodeWebGPU, type WebGPUAdapterDescription } from './webgpu-node.js';
import { registerWebGPUTrainingKernels } from './webgpu-training/register.js';

export interface SelectBackendOptions {
  /**
   * Use exactly this backend and fail if it is unavailable. Defaults to the `EBM_BACKEND`
   * environment variable (Node), which accepts node-gpu, node (or tensorflow), webgpu, webgl,
   * wasm and cpu.
   */
  backend?: BackendCandidate | string;
  /** Order to try. Default: node-gpu, webgpu (hardware adapters), node, wasm, cpu in Node; webgpu, webgl, wasm, cpu in browsers. */
  order?: readonly BackendCandidate[];
  /**
   * Threads for the wasm backend. In Node the default is `EBM_WASM_THREADS` or the machine's
   * available parallelism (at most 8), computed on tfjs's threaded-SIMD build, which ebm.js
   * starts on worker_threads (tfjs alone runs single-threaded in Node). In browsers only the
   * threaded build in cross-origin-isolated pages uses more than 1. `BackendInfo.threads` says
   * what was used.
   */
  threads?: number;
  /** Where the browser loads the wasm binaries from (`setWasmPaths`); Node reads them from node_modules. */
  wasmPaths?: string | Record<string, string>;
  /**
   * Replace how a candidate's package is imported, for example
   * `{ webgpu: () => import('@tensorflow/tfjs-backend-webgpu') }` so a bundler includes it.
   */
  loaders?: Partial<Record<BackendCandidate, () => Promise<unknown>>>;
  /** Environment to read EBM_BACKEND from (default: process.env in Node). */
  env?: Record<string, string | undefined>;
}

export interface BackendAttempt {
  candidate: BackendCandidate;
  ok: boolean;
  /** Why it was not used, when it failed. */
  reason?: string;
}

export interface BackendInfo {
  /**
   * What computes: `node-gpu` only when the 'tensorflow' backend itself reports a GPU in use
   * (`isUsingGpuDevice`), whichever package was asked for; `node` when it computes on the CPU.
   */
  candidate: BackendCandidate;
  /** The tfjs backend name now active (`tf.getBackend()`). */
  backend: string;
  environment: 'node' | 'browser';
  /**
   * Where tensors are computed. For node and node-gpu this is what libtensorflow reports; webgpu
   * and webgl are GPU APIs (a browser may still emulate them in software).
   */
  device: 'gpu' | 'cpu';
  /** CPU threads the backend computes with; null for GPU backends. */
  threads: number | null;
  /** Whether gradients of Conv2D are registered (tfjs's wasm backend lacks Conv2DBackpropFilter). */
  canTrainConv: boolean;
  /** Every candidate tried, in order, with the reason each failure fell back. */
  attempts: BackendAttempt[];
  /** Human-readable remarks: fallbacks and performance warnings. */
  notes: string[];
  /** The WebGPU adapter, when `webgpu` was started in Node on Dawn (the `webgpu` package). */
  adapter?: WebGPUAdapterDescription;
}

// The adapter the Node webgpu backend was started on (one Dawn device per process).
let nodeWebGPUAdapter: WebGPUAdapterDescription | undefined;

export function detectEnvironment(): 'node' | 'browser' {
  const g = globalThis as { process?: { versions?: { node?: string } }; window?: unknown };
  return g.process?.versions?.node !== undefined && g.window === undefined ? 'node' : 'browser';
}

/** Whether the backend named (default: the active one) can differentiate a Conv2D. */
export function canTrainConv(backend: string = tf.getBackend()): boolean {
  return (
    tf.getKernel('Conv2DBackpropFilter', backend) !== undefined &&
    tf.getKernel('Conv2DBackpropInput', backend) !== undefined
  );
}

/**
 * Picks the fastest available tfjs backend and makes it active. In Node it tries
 * `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`, wasm, then cpu; in browsers webgpu,
 * webgl, wasm, cpu. A candidate whose package is missing or whose native addon fails to load
 * falls through to the next, with the reason in `attempts`. `EBM_BACKEND` (or `backend`)
 * forces one and throws `BACKEND_UNAVAILABLE` if it cannot start.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendInfo> {
  const environment = detectEnvironment();
  const env =
    options.env ??
    (environment === 'node'
      ? (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
      : undefined) ??
    {};
  const forcedName = options.backend ?? (env['EBM_BACKEND'] || undefined);
  const forced = forcedName === undefined ? undefined : parseBackendName(forcedName);
  const order = forced
    ? [forced]
    : [...(options.order ?? (environment === 'node' ? NODE_BACKEND_ORDER : BROWSER_BACKEND_ORDER))];
  if (
    options.threads !== undefined &&
    !(Number.isInteger(options.threads) && options.threads >= 1)
  ) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `selectBackend: threads must be a positive integer, received ${options.threads}.`,
    );
  }

  const threads = options.threads ?? threadsFromEnv(env);
  const resolved = threads === undefined ? options : { ...options, threads };

  const attempts: BackendAttempt[] = [];
  for (const candidate of order) {
    const reason = await tryCandidate(candidate, resolved, forced !== undefined);
    attempts.push(
      reason === undefined ? { candidate, ok: true } : { candidate, ok: false, reason },
    );
    if (reason === undefined) return backendInfo(candidate, environment, attempts);
  }
  const tried = attempts.map((a) => `${a.candidate}: ${a.reason}`).join('; ');
  throw new EbmError(
    'BACKEND_UNAVAILABLE',
    forced
      ? `Backend "${forcedName}" (forced by ${options.backend !== undefined ? 'the backend option' : 'EBM_BACKEND'}) is not available: ${tried}`
      : `No tfjs backend could be started: ${tried}`,
    { attempts },
  );
}

async function tryCandidate(
  candidate: BackendCandidate,
  options: SelectBackendOptions,
  forced = false,
): Promise<string | undefined> {
  const name = TFJS_NAME[candidate];
  const previous = activeBackendName();
  try {
    if (
      candidate === 'webgpu' &&
      detectEnvironment() === 'node' &&
      tf.engine().registry['webgpu'] === undefined
    ) {
      // In Node the device comes from Dawn; a software adapter only when asked for.
      const load = options.loaders?.webgpu ?? DEFAULT_LOADERS.webgpu;
      const started = await startNodeWebGPU(forced, load);
      if ('reason' in started) return started.reason;
      nodeWebGPUAdapter = started.adapter;
    }
    // wasm is configured (threads, paths) before it initialises, so its module is always loaded.
    let wasmModule: Record<string, unknown> | undefined;
    if (tf.findBackendFactory(name) === null || candidate === 'wasm') {
      const load = options.loaders?.[candidate] ?? DEFAULT_LOADERS[candidate];
      const module = (await load()) as Record<string, unknown>;
      if (candidate === 'wasm') {
        wasmModule = module;
        configureWasm(module, options);
        // Conv backprops and faster replacements, before init so replaced kernels keep their setup.
        registerWasmTrainingKernels();
      }
    }
    if (tf.findBackendFactory(name) === null)
      return `importing its package did not register the "${name}" backend`;
    // Faster or cpu-consistent replacements of some tfjs-webgpu kernels (Conv2DBackpropFilter, MaxPoolGrad, ...).
    if (candidate === 'webgpu') registerWebGPUTrainingKernels();
    let ok: boolean;
    const setThreadsCount = wasmModule?.['setThreadsCount'];
    if (
      candidate === 'wasm' &&
      detectEnvironment() === 'node' &&
      tf.engine().registry['wasm'] === undefined &&
      typeof setThreadsCount === 'function'
    ) {
      const threads = await nodeWasmThreads(options);
      ok = await initNodeWasmBackend(threads, setThreadsCount as (n: number) => void);
    } else {
      ok = await tf.setBackend(name);
    }
    if (!ok) return `the "${name}" backend failed to initialise`;
    await tf.ready();
    if (candidate === 'node-gpu') {
      // 'tensorflow' is the name of both tfjs-node and tfjs-node-gpu, and tfjs-node-gpu computes
      // on the CPU when CUDA is missing: only the backend itself can say where it computes.
      const refused = refuseUnverifiedGpu(tensorflowDevice());
      if (refused !== undefined) {
        if (previous !== null && previous !== name) await tf.setBackend(previous);
        return refused;
      }
    }
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.split('\n')[0]!.slice(0, 300);
  }
}

/** The active tfjs backend's name, or null before any backend was set (without initialising one). */
function activeBackendName(): string | null {
  return (tf.engine() as unknown as { backendName: string | null }).backendName ?? null;
}

function configureWasm(module: Record<string, unknown>, options: SelectBackendOptions): void {
  // Both must be set before the wasm backend initialises; later calls are ignored by tfjs.
  if (tf.engine().registry['wasm'] !== undefined) return;
  if (options.wasmPaths !== undefined && typeof module['setWasmPaths'] === 'function') {
    (module['setWasmPaths'] as (p: unknown) => void)(options.wasmPaths);
  }
  if (options.threads !== undefined && typeof module['setThreadsCount'] === 'function') {
    (module['setThreadsCount'] as (n: number) => void)(options.threads);
  }
}

/** The wasm thread count in Node: the option, else EBM_WASM_THREADS, else the cores (≤ 8). */
async function nodeWasmThreads(options: SelectBackendOptions): Promise<number> {
  return options.threads ?? Math.min(await hardwareThreads(), MAX_WASM_THREADS);
}

function threadsFromEnv(env: Record<string, string | undefined>): number | undefined {
  const value = env['EBM_WASM_THREADS'];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `EBM_WASM_THREADS must be a positive integer, received "${value}".`,
      { received: value },
    );
  }
  return n;
}

async function backendInfo(
  chosen: BackendCandidate,
  environment: 'node' | 'browser',
  attempts: BackendAttempt[],
): Promise<BackendInfo> {
  const backend = tf.getBackend();
  const notes: string[] = attempts
    .filter((a) => !a.ok)
    .map((a) => `${a.candidate} unavailable (${a.reason}); fell back`);
  let candidate = chosen;
  let device: BackendInfo['device'] = chosen === 'webgpu' || chosen === 'webgl' ? 'gpu' : 'cpu';
  if (chosen === 'node') {
    // The 'tensorflow' backend found may be tfjs-node-gpu's (registered by the host): report
    // where it computes, not which package was asked for.
    const tfDevice = tensorflowDevice();
    if (tfDevice.usingGpu === true) {
      candidate = 'node-gpu';
      device = 'gpu';
      notes.push('the "tensorflow" backend is tfjs-node-gpu and computes on a GPU');
    } else if (tfDevice.gpuPackage === true) {
      notes.push(
        'the "tensorflow" backend is tfjs-node-gpu, but it found no GPU: it computes on the CPU',
      );
    }
  } else if (chosen === 'node-gpu') {
    device = 'gpu';
  }
  let threads: number | null;
  if (candidate === 'wasm') {
    const wasm = (await DEFAULT_LOADERS.wasm()) as { getThreadsCount?: () => number };
    threads = wasm.getThreadsCount?.() ?? 1;
    const { threaded } = wasmThreading();
    notes.push(
      threaded
        ? `wasm computes on ${threads} thread${threads === 1 ? '' : 's'} (tfjs's threaded-SIMD build)`
        : 'wasm computes on 1 thread (the single-threaded build)',
    );
  } else if (candidate === 'cpu') {
    threads = 1;
  } else if (candidate === 'node') {
    threads = await hardwareThreads();
  } else {
    threads = null;
  }
  const trainConv = canTrainConv(backend);
  if (candidate === 'cpu')
    notes.push('the cpu backend is pure JavaScript: too slow to train conv nets (~1 img/s)');
  if (!trainConv)
    notes.push(`the ${backend} backend has no Conv2D gradient kernels: it cannot train conv nets`);
  const info: BackendInfo = {
    candidate,
    backend,
    environment,
    device,
    threads,
    canTrainConv: trainConv,
    attempts,
    notes,
  };
  if (candidate === 'webgpu' && environment === 'node' && nodeWebGPUAdapter !== undefined) {
    info.adapter = nodeWebGPUAdapter;
    if (nodeWebGPUAdapter.software)
      notes.push(
        `the WebGPU adapter is a software rasteriser (${nodeWebGPUAdapter.description}): it computes on the CPU, for correctness, not speed`,
      );
    notes.push('on Dawn in Node synchronous reads (dataSync) fail: read with await data()');
  }
  return info;
}

async function hardwareThreads(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  const os = (await importOptional('node:os')) as {
    availableParallelism?: () => number;
    cpus: () => unknown[];
  };
  return os.availableParallelism?.() ?? os.cpus().length;
}
