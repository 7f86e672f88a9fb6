// The browser-safe entry ("default" condition); Node's entry (index.node.ts) adds the names of
// node.ts, which is also `@ebmjs/train/node`.
export * from './augment/index.js';
export * from './datasets/index.js';
export type { CompileContext, CompiledStep } from './engine/compiled-step.js';
export type { OnnxRuntimeEngineOptions, TrainingEngineName } from './engine/engine-config.js';
export * from './eval/index.js';
export type { CheckpointContent, LoadedCheckpoint, Saveable } from './loop/checkpoint.js';
export type { TrainConfig, TrainResult } from './loop/config.js';
export {
  type MPerClassSamplerOptions,
  mPerClassSampler,
  type SamplerOption,
} from './loop/sampler.js';
export { type LoopSpec, runTrainingLoop } from './loop/train-loop.js';
export * from './optim/index.js';
export * from './progress/index.js';
export {
  type BarlowTwinsConfig,
  type BarlowTwinsResult,
  trainBarlowTwins,
} from './recipes/barlow-twins.js';
export { type BYOLConfig, type BYOLResult, trainBYOL } from './recipes/byol.js';
export { type TrainDAEConfig, type TrainDAEResult, trainDAE } from './recipes/dae.js';
export { type MoCoConfig, type MoCoResult, trainMoCo } from './recipes/moco.js';
export { type MultiCropOptions, multiCropPairs } from './recipes/multi-crop.js';
export { type PIRLConfig, type PIRLResult, trainPIRL } from './recipes/pirl.js';
export {
  RBM_METHODS,
  type RbmMethod,
  type TrainRBMConfig,
  type TrainRBMResult,
  trainRBM,
} from './recipes/rbm.js';
export {
  binaryBatch,
  pseudoLogLikelihood,
  rbmFlipGaps,
  rbmLogProbabilityFlow,
  rbmRatioMatching,
  reconstructionError,
  sklearnScoreSamples,
} from './recipes/rbm-measures.js';
export { type SimCLRConfig, type SimCLRResult, trainSimCLR } from './recipes/simclr.js';
export { type SimSiamConfig, type SimSiamResult, trainSimSiam } from './recipes/simsiam.js';
export { trainVICReg, type VICRegConfig, type VICRegResult } from './recipes/vicreg.js';
