import { EbmError } from '@ebmjs/core';
import { experimental } from '@ebmjs/export';
import type { OptimizerConfig } from '../optim/create-optimizer.js';
import type { SlotNames } from './graph-state.js';

/**
 * The compiled graph's optimizer equal to what `createOptimizer(config)` builds in tfjs (the same
 * defaults; AdamW and LARS decay and adapt weights of rank > 1, as theirs do), and how its state
 * slots are named on the tfjs side, so state moves both ways at checkpoints.
 */
export function graphOptimizer(
  config: OptimizerConfig,
  recipe: string,
): { spec: experimental.OptimizerSpec; slots: SlotNames } {
  const spec = specFor(config, recipe);
  return { spec, slots: experimental.optimizerStateLayout(spec).slots };
}

function specFor(config: OptimizerConfig, recipe: string): experimental.OptimizerSpec {
  switch (config.name) {
    case 'adam':
      // createOptimizer's 'adam' is ebm.js's AdamW without decay.
      return { kind: 'adamw', weightDecay: 0 };
    case 'adamw':
      return { kind: 'adamw', weightDecay: config.weightDecay ?? 0.01 };
    case 'lars':
      return {
        kind: 'lars',
        momentum: config.momentum ?? 0.9,
        weightDecay: config.weightDecay ?? 1e-6,
      };
    case 'sgd':
      return { kind: 'sgd', momentum: config.momentum ?? 0.9 };
    default:
      throw new EbmError(
        'UNSUPPORTED',
        `${recipe}: engine 'onnxruntime' cannot compile optimizer "${String(config.name)}"; supported: sgd, adam, adamw, lars.`,
      );
  }
}
