import { EbmError } from '@ebmjs/contract';

/** The backends `selectBackend` knows, by the package that provides them. */
export type BackendCandidate = 'node-gpu' | 'node' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** webgpu in Node runs on Dawn (the `webgpu` package) and takes only hardware adapters here. */
export const NODE_BACKEND_ORDER: readonly BackendCandidate[] = [
  'node-gpu',
  'webgpu',
  'node',
  'wasm',
  'cpu',
];
export const BROWSER_BACKEND_ORDER: readonly BackendCandidate[] = [
  'webgpu',
  'webgl',
  'wasm',
  'cpu',
];

/** The tfjs backend name each candidate registers. */
export const TFJS_NAME: Record<BackendCandidate, string> = {
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
export const importOptional = (specifier: string): Promise<unknown> =>
  import(/* @vite-ignore */ specifier);

/**
 * tfjs-node and tfjs-node-gpu register the same 'tensorflow' kernels before loading their native
 * addon, so trying the second after the first failed prints a warning per kernel. Those
 * warnings say nothing the attempt list does not; drop them while importing.
 */
async function importQuietly(specifier: string): Promise<unknown> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && args[0].includes('is already registered'))) warn(...args);
  };
  try {
    return await importOptional(specifier);
  } finally {
    console.warn = warn;
  }
}

export const DEFAULT_LOADERS: Record<BackendCandidate, () => Promise<unknown>> = {
  'node-gpu': () => importQuietly('@tensorflow/tfjs-node-gpu'),
  node: () => importQuietly('@tensorflow/tfjs-node'),
  webgpu: () => importOptional('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => importOptional('@tensorflow/tfjs-backend-webgl'),
  wasm: () => import('@tensorflow/tfjs-backend-wasm'),
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
};

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
