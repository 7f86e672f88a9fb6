import '#register-gradients';

// Backend selection and the wasm training kernels moved to @ebmjs/backends (issue 15).
export {
  /** @deprecated Import from @ebmjs/backends. */
  type BackendAttempt,
  /** @deprecated Import from @ebmjs/backends. */
  type BackendCandidate,
  /** @deprecated Import from @ebmjs/backends. */
  type BackendInfo,
  /** @deprecated Import from @ebmjs/backends. */
  BROWSER_BACKEND_ORDER,
  /** @deprecated Import from @ebmjs/backends. */
  canTrainConv,
  /** @deprecated Import from @ebmjs/backends. */
  detectEnvironment,
  /** @deprecated Import from @ebmjs/backends. */
  MAX_WASM_THREADS,
  /** @deprecated Import from @ebmjs/backends. */
  NODE_BACKEND_ORDER,
  /** @deprecated Import from @ebmjs/backends. */
  nodeSupportsWasmThreads,
  /** @deprecated Import from @ebmjs/backends. */
  observeSubkernels,
  /** @deprecated Import from @ebmjs/backends. */
  parseBackendName,
  /** @deprecated Import from @ebmjs/backends. */
  registerWasmTrainingKernels,
  /** @deprecated Import from @ebmjs/backends. */
  type SelectBackendOptions,
  /** @deprecated Import from @ebmjs/backends. */
  type SubkernelObserver,
  /** @deprecated Import from @ebmjs/backends. */
  selectBackend,
  /** @deprecated Import from @ebmjs/backends. */
  unregisterWasmTrainingKernels,
  /** @deprecated Import from @ebmjs/backends. */
  WASM_TRAINING_KERNELS,
  /** @deprecated Import from @ebmjs/backends. */
  wasmTrainingKernelsRegistered,
} from '@ebmjs/backends';
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
