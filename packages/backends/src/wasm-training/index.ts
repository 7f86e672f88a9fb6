export { MAX_WASM_THREADS, nodeSupportsWasmThreads } from './node-threads.js';
export {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  wasmTrainingKernelsRegistered,
} from './register.js';
export { observeSubkernels, type SubkernelObserver } from './wasm-backend.js';
