import { EbmError } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from './adamw.js';
import { Lars } from './lars.js';

/**
 * tfjs's MomentumOptimizer.dispose skips the learning-rate scalar SGD keeps, and its setWeights
 * replaces the accumulators without disposing the old ones (the onnxruntime engine sets them at
 * every checkpoint); free both.
 */
class MomentumOptimizer extends tf.MomentumOptimizer {
  override dispose(): void {
    super.dispose();
    (this as unknown as { c?: tf.Tensor }).c?.dispose();
  }

  override async setWeights(weightValues: { name: string; tensor: tf.Tensor }[]): Promise<void> {
    const old = (this as unknown as { accumulations: { variable: tf.Variable }[] }).accumulations;
    const previous = old.filter((a) => a != null).map((a) => a.variable);
    await super.setWeights(weightValues);
    tf.dispose(previous);
  }
}

export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'lars';

export interface OptimizerConfig {
  name: OptimizerName;
  learningRate: number;
  /** SGD and LARS momentum. Default 0.9. */
  momentum?: number;
  /** AdamW (decoupled) and LARS weight decay. */
  weightDecay?: number;
}

/** SGD with momentum (tfjs's), Adam, AdamW and LARS (ebm.js's), from a plain config. */
export function createOptimizer(config: OptimizerConfig): tf.Optimizer {
  const { name, learningRate, momentum = 0.9 } = config;
  switch (name) {
    case 'sgd':
      return new MomentumOptimizer(learningRate, momentum);
    case 'adam':
      // ebm.js's Adam (AdamW without decay) rather than tfjs's: tfjs restores its β^t
      // accumulators from pow() on resume, off by an ulp from the running product, so a resumed
      // run would not reproduce the uninterrupted one exactly.
      return new AdamW({ learningRate, weightDecay: 0 });
    case 'adamw':
      return new AdamW({ learningRate, weightDecay: config.weightDecay ?? 0.01 });
    case 'lars':
      return new Lars({ learningRate, momentum, weightDecay: config.weightDecay ?? 1e-6 });
    default:
      throw new EbmError(
        'INVALID_ARGUMENT',
        `Unknown optimizer "${String(name)}". Expected sgd, adam, adamw or lars.`,
      );
  }
}

/** Sets the learning rate of any tfjs or ebm.js optimizer (SGD caches it, the others read a field). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as tf.Optimizer & {
    setLearningRate?: (lr: number) => void;
    learningRate?: number;
  };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}
