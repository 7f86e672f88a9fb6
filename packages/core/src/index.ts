import '#register-gradients';

export {
  type BackendAttempt,
  type BackendCandidate,
  type BackendInfo,
  BROWSER_BACKEND_ORDER,
  canTrainConv,
  detectEnvironment,
  NODE_BACKEND_ORDER,
  parseBackendName,
  type SelectBackendOptions,
  selectBackend,
} from './backend.js';
export type { BilinearEnergyOptions, Energy, EnergyOptions } from './energies/index.js';
export * as energies from './energies/index.js';
export { EbmError, type EbmErrorCode, isEbmError } from './errors.js';
export { type FreeEnergyOptions, freeEnergy } from './free-energy.js';
export { cosineSimilarityMatrix, l2Normalize, logSumExp } from './math.js';
export * as ops from './ops.js';
export { Rng } from './random.js';
export {
  ReplayBuffer,
  type ReplayBufferOptions,
  type ReplayBufferState,
  type ReplayInit,
  type ReplaySample,
} from './replay-buffer.js';
export * from './samplers/index.js';
export { guardGradientTape, stopGradient, untaped } from './tape.js';
export * as validate from './validate.js';
export { setFiniteChecks } from './validate.js';
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
