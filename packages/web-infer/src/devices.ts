import { describe, EbmError, messageOf } from './errors.js';

/**
 * Where inference runs. Node: 'cpu' and 'cuda' (onnxruntime-node), 'wasm' (onnxruntime-web's
 * Node build), 'webgpu' (onnxruntime-node's WebGPU provider, where its build has one).
 * Browser: 'webgpu' and 'wasm' (onnxruntime-web).
 */
export type Device = 'cpu' | 'cuda' | 'webgpu' | 'wasm';
export type DeviceOption = Device | 'auto';

export const DEVICE_OPTIONS: readonly DeviceOption[] = ['auto', 'cpu', 'cuda', 'webgpu', 'wasm'];

/** Which ONNX Runtime package serves a session. */
export type RuntimeName = 'onnxruntime-node' | 'onnxruntime-web';

/** A device that was tried and failed to start, with why. */
export interface DeviceAttempt {
  device: Device;
  reason: string;
}

/** The part of an ORT Tensor web-infer reads. */
export interface OrtTensorLike {
  readonly dims: readonly number[];
  readonly type: string;
  readonly data: unknown;
  readonly location?: string;
  dispose?(): void;
}

/** The part of an ORT InferenceSession web-infer uses. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

export type OrtTensorConstructor = new (
  type: 'float32',
  data: Float32Array,
  dims: readonly number[],
) => OrtTensorLike;

/** A started session and what it runs on. */
export interface OpenedSession {
  session: OrtSessionLike;
  Tensor: OrtTensorConstructor;
  device: Device;
  runtime: RuntimeName;
}

export interface SessionSettings {
  threads: number | undefined;
  wasmPaths: string | Record<string, string> | undefined;
}

/** Starts a session on one device; throws EbmError (BACKEND_UNAVAILABLE when the provider cannot start). */
export type SessionOpener = (
  bytes: Uint8Array,
  device: Device,
  settings: SessionSettings,
) => Promise<OpenedSession>;

export interface DeviceSupport {
  /** Where this entry (Node or browser) runs. */
  platform: 'node' | 'browser';
  /** Devices this platform can run. */
  devices: readonly Device[];
  /** Order 'auto' tries. */
  auto: readonly Device[];
  open: SessionOpener;
}

/**
 * Opens a session on the requested device; 'auto' tries the platform's devices in order and
 * falls back when one fails to start, recording each failure. An explicit device never falls
 * back: its failure is the error.
 */
export async function openOnDevice(
  support: DeviceSupport,
  bytes: Uint8Array,
  requested: unknown,
  settings: SessionSettings,
): Promise<OpenedSession & { fallbacks: DeviceAttempt[] }> {
  if (!DEVICE_OPTIONS.includes(requested as DeviceOption)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `FeatureExtractor: option "device" must be one of ${DEVICE_OPTIONS.map((d) => `"${d}"`).join(', ')}, received ${describe(requested)}.`,
      { option: 'device', received: requested },
    );
  }
  const device = requested as DeviceOption;
  if (device !== 'auto' && !support.devices.includes(device)) {
    throw new EbmError(
      'UNSUPPORTED',
      `FeatureExtractor: device "${device}" is not available in ${support.platform === 'node' ? 'Node' : 'the browser'}; use one of ${['auto', ...support.devices].map((d) => `"${d}"`).join(', ')}.`,
      { option: 'device', received: device, supported: support.devices },
    );
  }
  const order = device === 'auto' ? support.auto : [device];
  const fallbacks: DeviceAttempt[] = [];
  let last: unknown;
  for (const d of order) {
    try {
      return { ...(await support.open(bytes, d, settings)), fallbacks };
    } catch (error) {
      last = error;
      // A model the basic provider cannot load is not a reason to try another one.
      if (error instanceof EbmError && error.code !== 'BACKEND_UNAVAILABLE') throw error;
      fallbacks.push({ device: d, reason: messageOf(error) });
    }
  }
  if (order.length === 1) throw last;
  throw new EbmError(
    'BACKEND_UNAVAILABLE',
    `FeatureExtractor: no device could start (tried ${fallbacks.map((f) => `${f.device}: ${f.reason}`).join('; ')}).`,
    { tried: fallbacks },
    { cause: last },
  );
}

/** Wraps a session-creation failure: provider trouble vs a model the runtime rejects. */
export function sessionError(device: Device, error: unknown, basic: boolean): EbmError {
  const message = messageOf(error);
  // onnxruntime-web reports runtime files it could not fetch or instantiate this way.
  const runtimeMissing =
    /no available backend|failed to fetch|dynamically imported module|WebAssembly|\.wasm\b/i.test(
      message,
    );
  if (runtimeMissing && device === 'wasm') {
    return new EbmError(
      'BACKEND_UNAVAILABLE',
      `device "wasm" failed to start: ${message} (are onnxruntime-web's .wasm/.mjs files served where configureRuntime({ wasmPaths }) points?)`,
      { device },
      { cause: error },
    );
  }
  if (!basic || runtimeMissing) {
    return new EbmError(
      'BACKEND_UNAVAILABLE',
      `device "${device}" failed to start: ${message}`,
      { device },
      { cause: error },
    );
  }
  const unsupported = /implementation|not supported|unsupported|opset|not implemented/i.test(
    message,
  );
  return new EbmError(
    unsupported ? 'UNSUPPORTED' : 'CORRUPT_FILE',
    `ONNX Runtime (${device}) could not load the model: ${message}`,
    { device },
    { cause: error },
  );
}
