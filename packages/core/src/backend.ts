import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';

/** The backends `selectBackend` knows, by the package that provides them. */
export type BackendCandidate = 'node-gpu' | 'node' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

export const NODE_BACKEND_ORDER: readonly BackendCandidate[] = ['node-gpu', 'node', 'wasm', 'cpu'];
export const BROWSER_BACKEND_ORDER: readonly BackendCandidate[] = [
  'webgpu',
  'webgl',
  'wasm',
  'cpu',
];

/** The tfjs backend name each candidate registers. */
const TFJS_NAME: Record<BackendCandidate, string> = {
  'node-gpu': 'tensorflow',
  node: 'tensorflow',
  webgpu: 'webgpu',
  webgl: 'webgl',
  wasm: 'wasm',
  cpu: 'cpu',
};

const ALIASES: Record<string, BackendCandidate> = {
  'node-gpu': 'node-gpu',
  'tfjs-node-gpu': 'node-gpu',
  gpu: 'node-gpu',
  node: 'node',
  'tfjs-node': 'node',
  tensorflow: 'node',
  webgpu: 'webgpu',
  webgl: 'webgl',
  wasm: 'wasm',
  cpu: 'cpu',
};

// Variable specifiers keep bundlers from trying to resolve Node-only and optional packages;
// the wasm and cpu backends are dependencies of this package, so their imports stay literal.
const importOptional = (specifier: string): Promise<unknown> =>
  import(/* @vite-ignore */ specifier);

const DEFAULT_LOADERS: Record<BackendCandidate, () => Promise<unknown>> = {
  'node-gpu': () => importOptional('@tensorflow/tfjs-node-gpu'),
  node: () => importOptional('@tensorflow/tfjs-node'),
  webgpu: () => importOptional('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => importOptional('@tensorflow/tfjs-backend-webgl'),
  wasm: () => import('@tensorflow/tfjs-backend-wasm'),
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
};

export interface SelectBackendOptions {
  /**
   * Use exactly this backend and fail if it is unavailable. Defaults to the `EBM_BACKEND`
   * environment variable (Node), which accepts node-gpu, node (or tensorflow), webgpu, webgl,
   * wasm and cpu.
   */
  backend?: BackendCandidate | string;
  /** Order to try. Default: node-gpu, node, wasm, cpu in Node; webgpu, webgl, wasm, cpu in browsers. */
  order?: readonly BackendCandidate[];
  /** Threads for the wasm backend (only the threaded build, in cross-origin-isolated pages, uses more than 1). */
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
  /** The candidate that was chosen. */
  candidate: BackendCandidate;
  /** The tfjs backend name now active (`tf.getBackend()`). */
  backend: string;
  environment: 'node' | 'browser';
  /** CPU threads the backend computes with; null for GPU backends. */
  threads: number | null;
  /** Whether gradients of Conv2D are registered (tfjs's wasm backend lacks Conv2DBackpropFilter). */
  canTrainConv: boolean;
  /** Every candidate tried, in order, with the reason each failure fell back. */
  attempts: BackendAttempt[];
  /** Human-readable remarks: fallbacks and performance warnings. */
  notes: string[];
}

export function detectEnvironment(): 'node' | 'browser' {
  const g = globalThis as { process?: { versions?: { node?: string } }; window?: unknown };
  return g.process?.versions?.node !== undefined && g.window === undefined ? 'node' : 'browser';
}

/** Resolves a user-facing backend name (EBM_BACKEND spelling) to a candidate. */
export function parseBackendName(name: string): BackendCandidate {
  const candidate = ALIASES[name.trim().toLowerCase()];
  if (candidate === undefined) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `Unknown backend "${name}". Expected one of: node-gpu, node, webgpu, webgl, wasm, cpu.`,
      { received: name },
    );
  }
  return candidate;
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

  const attempts: BackendAttempt[] = [];
  for (const candidate of order) {
    const reason = await tryCandidate(candidate, options);
    attempts.push(
      reason === undefined ? { candidate, ok: true } : { candidate, ok: false, reason },
    );
    if (reason === undefined) return describe(candidate, environment, attempts);
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
): Promise<string | undefined> {
  const name = TFJS_NAME[candidate];
  try {
    // wasm is configured (threads, paths) before it initialises, so its module is always loaded.
    if (tf.findBackendFactory(name) === null || candidate === 'wasm') {
      const load = options.loaders?.[candidate] ?? DEFAULT_LOADERS[candidate];
      const module = (await load()) as Record<string, unknown>;
      if (candidate === 'wasm') configureWasm(module, options);
    }
    if (tf.findBackendFactory(name) === null)
      return `importing its package did not register the "${name}" backend`;
    const ok = await tf.setBackend(name);
    if (!ok) return `the "${name}" backend failed to initialise`;
    await tf.ready();
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.split('\n')[0]!.slice(0, 300);
  }
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

async function describe(
  candidate: BackendCandidate,
  environment: 'node' | 'browser',
  attempts: BackendAttempt[],
): Promise<BackendInfo> {
  const backend = tf.getBackend();
  const notes: string[] = attempts
    .filter((a) => !a.ok)
    .map((a) => `${a.candidate} unavailable (${a.reason}); fell back`);
  let threads: number | null;
  if (candidate === 'wasm') {
    const wasm = (await DEFAULT_LOADERS.wasm()) as { getThreadsCount?: () => number };
    threads = wasm.getThreadsCount?.() ?? 1;
  } else if (candidate === 'cpu') {
    threads = 1;
  } else if (candidate === 'node' || candidate === 'node-gpu') {
    threads = await hardwareThreads();
  } else {
    threads = null;
  }
  const trainConv = canTrainConv(backend);
  if (candidate === 'cpu')
    notes.push('the cpu backend is pure JavaScript: too slow to train conv nets (~1 img/s)');
  if (!trainConv)
    notes.push(`the ${backend} backend has no Conv2D gradient kernels: it cannot train conv nets`);
  return { candidate, backend, environment, threads, canTrainConv: trainConv, attempts, notes };
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
