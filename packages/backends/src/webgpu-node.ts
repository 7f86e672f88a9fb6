import * as tf from '@tensorflow/tfjs-core';
import { importOptional } from './candidates.js';

/** The WebGPU adapter a `webgpu` backend computes on, as the adapter reports it. */
export interface WebGPUAdapterDescription {
  vendor: string;
  architecture: string;
  description: string;
  /** A CPU rasteriser (SwiftShader, llvmpipe, WARP) or a fallback adapter: correct, not fast. */
  software: boolean;
}

type Adapter = {
  info?: Record<string, unknown> & { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  limits: Record<string, number>;
  requestDevice(descriptor?: object): Promise<unknown>;
};
type Gpu = { requestAdapter(options?: object): Promise<Adapter | null> };

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|warp|software|basic render/i;

export function describeAdapter(adapter: Adapter): WebGPUAdapterDescription {
  const info = adapter.info ?? {};
  const text = (key: string) => (typeof info[key] === 'string' ? (info[key] as string) : '');
  const vendor = text('vendor');
  const architecture = text('architecture');
  const description = text('description') || text('device');
  const software =
    info.isFallbackAdapter === true ||
    adapter.isFallbackAdapter === true ||
    SOFTWARE.test(`${vendor} ${architecture} ${description} ${text('device')}`);
  return { vendor, architecture, description, software };
}

// Buffer and workgroup limits: the spec's defaults (256 MiB buffers) are far below what a GPU
// has, and tfjs-webgpu's shaders need the adapter's real ones for large batches.
const LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeInvocationsPerWorkgroup',
  'maxStorageBuffersPerShaderStage',
];

/**
 * Starts tfjs's WebGPU backend in Node on Dawn (the `webgpu` package): the high-performance
 * adapter, a device with its full limits, registered with ebm.js's own factory (tfjs's asks for
 * features in a form Dawn rejects, and registers only when navigator.gpu exists at import).
 * Returns the adapter, or the reason it was not used.
 */
export async function startNodeWebGPU(
  allowSoftware: boolean,
  loadBackend: () => Promise<unknown>,
): Promise<{ adapter: WebGPUAdapterDescription } | { reason: string }> {
  const dawn = (await importOptional('webgpu')) as {
    create: (flags: string[]) => Gpu;
    globals?: Record<string, unknown>;
  };
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null)
    return {
      reason:
        'Dawn found no WebGPU adapter (no Vulkan/Metal/D3D12 driver, or libvulkan.so.1 is missing)',
    };
  const described = describeAdapter(adapter);
  if (described.software && !allowSoftware)
    return {
      reason: `the WebGPU adapter is a software rasteriser (${described.vendor} ${described.architecture}, ${described.description}): used only when asked for (EBM_BACKEND=webgpu)`,
    };
  const requiredLimits: Record<string, number> = {};
  for (const key of LIMITS) {
    const value = adapter.limits[key];
    if (typeof value === 'number') requiredLimits[key] = value;
  }
  const device = await adapter.requestDevice({ requiredLimits });
  // tfjs-webgpu uses the WebGPU globals (GPUBufferUsage, ...) and checks navigator.gpu in its
  // constructor; Node has neither.
  const g0 = globalThis as Record<string, unknown>;
  for (const [key, value] of Object.entries(dawn.globals ?? {})) if (!(key in g0)) g0[key] = value;
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) g.navigator = { gpu };
  else if (g.navigator.gpu === undefined) Object.defineProperty(g.navigator, 'gpu', { value: gpu });
  const module = (await loadBackend()) as {
    WebGPUBackend?: new (device: unknown, info: unknown) => tf.KernelBackend;
  };
  const WebGPUBackend = module.WebGPUBackend;
  if (WebGPUBackend === undefined)
    return { reason: '@tensorflow/tfjs-backend-webgpu exports no WebGPUBackend' };
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info));
  return { adapter: described };
}
