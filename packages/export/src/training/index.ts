/**
 * @experimental Training on ONNX runtimes: a tfjs model's training step compiled to one
 * standard-ONNX graph (forward in training mode, loss, reverse-mode gradients, optimizer).
 * Stage 1 of issue 17: the SimCLR step (convEncoder-style nets + projection head + NT-Xent).
 */
export { differentiate } from './autodiff.js';
export {
  type OrtLike,
  OrtTrainingEngine,
  type OrtTrainingEngineOptions,
} from './engine.js';
export { GRAD_RULES } from './grad-rules/index.js';
export {
  buildOptimizerStep,
  decaysByDefault,
  type OptimizedValue,
  type OptimizerOutputs,
  type OptimizerSpec,
  type OptimizerStateLayout,
  type OptimizerStepWeight,
  optimizerStateLayout,
  stateSlots,
  type WeightRule,
} from './optimizer.js';
export {
  buildSimclrStep,
  type SimclrStepGraph,
  type SimclrStepOptions,
  type StepTensor,
} from './simclr-step.js';
