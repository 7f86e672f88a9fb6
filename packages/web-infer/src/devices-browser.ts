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

type OrtWeb = typeof import('onnxruntime-web/webgpu');

let ortModule: Promise<OrtWeb> | null = null;
let configured = false;

/**
 * onnxruntime-web's WebGPU build (it carries the wasm provider too), imported on first use so
 * that a bundle that only uses EmbeddingIndex or cosineSimilarity stays small.
 */
function loadOrt(settings: SessionSettings): Promise<OrtWeb> {
  ortModule ??= import('onnxruntime-web/webgpu').catch((error: unknown) => {
    ortModule = null;
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      `onnxruntime-web failed to load: ${messageOf(error)}`,
      { runtime: 'onnxruntime-web' },
      { cause: error },
    );
  });
  return ortModule.then((ort) => {
    // ort.env is process-wide and read when the wasm runtime first starts.
    if (!configured) {
      if (settings.wasmPaths !== undefined) ort.env.wasm.wasmPaths = settings.wasmPaths;
      if (settings.threads !== undefined) ort.env.wasm.numThreads = settings.threads;
      configured = true;
    }
    return ort;
  });
}

/** Why WebGPU cannot run here, or null when an adapter is available. */
async function webgpuMissing(): Promise<string | null> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } })
    ?.gpu;
  if (gpu === undefined) {
    return 'navigator.gpu is undefined (no WebGPU in this browser, or the page is not a secure context)';
  }
  try {
    const adapter = await gpu.requestAdapter();
    return adapter === null ? 'navigator.gpu.requestAdapter() returned no adapter' : null;
  } catch (error) {
    return `navigator.gpu.requestAdapter() failed: ${messageOf(error)}`;
  }
}

async function open(
  bytes: Uint8Array,
  device: Device,
  settings: SessionSettings,
): Promise<OpenedSession> {
  if (device === 'webgpu') {
    const missing = await webgpuMissing();
    if (missing !== null) {
      throw new EbmError('BACKEND_UNAVAILABLE', `device "webgpu" failed to start: ${missing}.`, {
        device,
      });
    }
  }
  const ort = await loadOrt(settings);
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [device],
      graphOptimizationLevel: 'all',
    });
    return {
      session: session as unknown as OrtSessionLike,
      Tensor: ort.Tensor as unknown as OrtTensorConstructor,
      device,
      runtime: 'onnxruntime-web',
    };
  } catch (error) {
    throw sessionError(device, error, device === 'wasm');
  }
}

/** Browser: webgpu (when an adapter exists and the session starts), then wasm. */
export const browserDevices: DeviceSupport = {
  platform: 'browser',
  devices: ['webgpu', 'wasm'],
  auto: ['webgpu', 'wasm'],
  open,
};
