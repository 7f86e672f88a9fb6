export { FORMAT as SAVE_FORMAT, FORMAT_VERSION as SAVE_FORMAT_VERSION } from './bundle.js';
export { type ConvEncoderOptions, convEncoder } from './conv-encoder.js';
export {
  type DaeNoise,
  DenoisingAutoencoder,
  type DenoisingAutoencoderOptions,
  type MlpDaeOptions,
} from './denoising-autoencoder.js';
export { describeEncoder, type Encoder, type Head } from './encoder.js';
export type { IndexInput } from './indices.js';
export {
  CUSTOM_LAYER_CLASS_NAMES,
  L2Normalize,
  type L2NormalizeArgs,
  registerCustomLayers,
} from './l2-normalize-layer.js';
export { MemoryBank, type MemoryBankOptions, type NegativeSample } from './memory-bank.js';
export { type MlpEncoderOptions, mlpEncoder } from './mlp-encoder.js';
export { MomentumEncoder, type MomentumEncoderOptions } from './momentum-encoder.js';
export { NegativeQueue, type NegativeQueueOptions } from './negative-queue.js';
export {
  type LoadedBundle,
  loadBundle,
  loadEncoder,
  loadModel,
  type SaveContent,
  saveBundle,
  saveModel,
  type TensorData,
} from './persistence.js';
export { PirlHeads, type PirlHeadsOptions, pirlHeads } from './pirl-heads.js';
export { type PredictionHeadOptions, predictionHead } from './prediction-head.js';
export { type ProjectionHeadOptions, projectionHead } from './projection-head.js';
export { type GibbsChain, RBM, type RBMOptions } from './rbm.js';
export { type ResNet18Options, resnet18 } from './resnet18.js';
export { type ShufflePlan, shufflePlan } from './shuffle-bn.js';
export { type MemoryStorage, memoryStorage, type SaveTarget, type Storage } from './storage.js';
