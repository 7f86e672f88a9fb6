/**
 * @experimental Training on ONNX runtimes: a tfjs model's training step compiled to one
 * standard-ONNX graph (forward in training mode, loss, reverse-mode gradients, optimizer).
 * Issue 17: the SimCLR step (NT-Xent), the MoCo step (InfoNCE against a queue, momentum
 * encoder with Shuffle BN), the PIRL step (NCE against a memory bank), the VICReg and Barlow
 * Twins step, and the SimSiam and BYOL step (a predictor, BYOL's momentum target), for the
 * encoders and heads of @ebmjs/models.
 */
export { differentiate } from './autodiff.js';
export {
  type OrtLike,
  OrtTrainingEngine,
  type OrtTrainingEngineOptions,
} from './engine.js';
export { GRAD_RULES } from './grad-rules/index.js';
export {
  buildJointEmbeddingStep,
  type JointEmbeddingLoss,
  type JointEmbeddingStepOptions,
} from './joint-embedding-step.js';
export { buildMocoStep, type MocoStepGraph, type MocoStepOptions } from './moco-step.js';
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
export { buildPirlStep, type PirlStepGraph, type PirlStepOptions } from './pirl-step.js';
export {
  buildPredictorStep,
  type PredictorStepOptions,
} from './predictor-step.js';
export { buildSimclrStep, type SimclrStepGraph, type SimclrStepOptions } from './simclr-step.js';
export type { StepGraph, StepTensor, StepValue } from './step-graph.js';
export type { TwoViewStepGraph } from './step-inputs.js';
