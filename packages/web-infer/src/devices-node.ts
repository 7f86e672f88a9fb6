import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  type Device,
  type DeviceSupport,
  type OpenedSession,
  type OrtSessionLike,
  type OrtTensorConstructor,
  type SessionSettings,
  sessionError,
} from './devices.js';
import { EbmError, messageOf } from './errors.js';

/**
 * onnxruntime-node's CUDA provider exists for Linux x64 only, in libraries its install script
 * downloads next to its binding. Checking for them first skips a noisy native error log.
 */
function cudaLibraryMissing(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `onnxruntime-node has no CUDA provider on ${process.platform}/${process.arch} (Linux x64 only)`;
  }
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    const bin = join(dirname(main), '..', 'bin', 'napi-v6', 'linux', 'x64');
    const lib = 'libonnxruntime_providers_cuda.so';
    if (existsSync(join(bin, 'onnxruntime_binding.node')) && !existsSync(join(bin, lib))) {
      return `${lib} is not installed next to onnxruntime-node's binding (its install script downloads it; ONNXRUNTIME_NODE_INSTALL=skip or a blocked install script leaves CPU only)`;
    }
  } catch {
    // Unknown layout: let session creation decide.
  }
  return null;
}

interface OrtModule {
  InferenceSession: { create(bytes: Uint8Array, options?: object): Promise<unknown> };
  Tensor: unknown;
  env: { wasm: { numThreads?: number; wasmPaths?: unknown } };
}

async function load(
  name: 'onnxruntime-node' | 'onnxruntime-web',
  hint: string,
): Promise<OrtModule> {
  try {
    const m = (await (name === 'onnxruntime-node'
      ? import('onnxruntime-node')
      : import('onnxruntime-web'))) as unknown as OrtModule & { default?: OrtModule };
    return m.InferenceSession === undefined && m.default !== undefined ? m.default : m;
  } catch (error) {
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      `${name} is not installed or failed to load (${hint}): ${messageOf(error)}`,
      { runtime: name },
      { cause: error },
    );
  }
}

let webConfigured = false;

async function open(
  bytes: Uint8Array,
  device: Device,
  settings: SessionSettings,
): Promise<OpenedSession> {
  if (device === 'wasm') {
    const ort = await load('onnxruntime-web', 'npm install onnxruntime-web');
    if (!webConfigured) {
      // One thread unless asked: wasm worker threads in Node keep the process busy for little gain.
      ort.env.wasm.numThreads = settings.threads ?? 1;
      if (settings.wasmPaths !== undefined) ort.env.wasm.wasmPaths = settings.wasmPaths;
      webConfigured = true;
    }
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      return {
        session: session as OrtSessionLike,
        Tensor: ort.Tensor as OrtTensorConstructor,
        device,
        runtime: 'onnxruntime-web',
      };
    } catch (error) {
      throw sessionError(device, error, true);
    }
  }
  if (device === 'cuda') {
    const missing = cudaLibraryMissing();
    if (missing !== null) {
      throw new EbmError('BACKEND_UNAVAILABLE', `device "cuda" failed to start: ${missing}.`, {
        device,
      });
    }
  }
  const ort = await load(
    'onnxruntime-node',
    'npm install onnxruntime-node; its CPU binaries ship in the package, CUDA libraries come from its install script',
  );
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [device],
      graphOptimizationLevel: 'all',
      ...(settings.threads === undefined
        ? {}
        : { intraOpNumThreads: settings.threads, interOpNumThreads: 1 }),
      // A provider that cannot start should fail quietly: 'auto' reports it as a fallback.
      logSeverityLevel: 3,
    });
    return {
      session: session as OrtSessionLike,
      Tensor: ort.Tensor as OrtTensorConstructor,
      device,
      runtime: 'onnxruntime-node',
    };
  } catch (error) {
    throw sessionError(device, error, device === 'cpu');
  }
}

/** Node: cuda (if its libraries are installed), then cpu, then onnxruntime-web's wasm. */
export const nodeDevices: DeviceSupport = {
  platform: 'node',
  devices: ['cpu', 'cuda', 'wasm', 'webgpu'],
  auto: ['cuda', 'cpu', 'wasm'],
  open,
};
