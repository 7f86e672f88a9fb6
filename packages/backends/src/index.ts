export {
  type BackendCandidate,
  BROWSER_BACKEND_ORDER,
  NODE_BACKEND_ORDER,
  parseBackendName,
} from './candidates.js';
export {
  type BackendAttempt,
  type BackendInfo,
  canTrainConv,
  detectEnvironment,
  type SelectBackendOptions,
  selectBackend,
} from './select-backend.js';
export { type TensorflowDevice, tensorflowDevice } from './tensorflow-device.js';
export {
  MAX_WASM_THREADS,
  nodeSupportsWasmThreads,
  observeSubkernels,
  registerWasmTrainingKernels,
  type SubkernelObserver,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  wasmTrainingKernelsRegistered,
} from './wasm-training/index.js';
export type { WebGPUAdapterDescription } from './webgpu-node.js';
export {
  registerWebGPUTrainingKernels,
  unregisterWebGPUTrainingKernels,
  WEBGPU_TRAINING_KERNELS,
  webgpuTrainingKernelsRegistered,
} from './webgpu-training/index.js';
