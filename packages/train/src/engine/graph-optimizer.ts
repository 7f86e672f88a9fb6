import { EbmError } from '@ebmjs/core';
import type { experimental } from '@ebmjs/export';
import type { OptimizerConfig } from '../optim/create-optimizer.js';
import type { SlotNames } from './graph-state.js';

/**
 * The compiled graph's optimizer equal to what `createOptimizer(config)` builds in tfjs, and how
 * its state slots are named on the tfjs side (so state moves both ways at checkpoints).
 */
export function graphOptimizer(
  config: OptimizerConfig,
  recipe: string,
): { spec: experimental.OptimizerSpec; slots: SlotNames } {
  switch (config.name) {
    case 'adam':
      // createOptimizer's 'adam' is ebm.js's AdamW without decay: Adam's update with ε = 1e-8.
      return { spec: { kind: 'adam', epsilon: 1e-8 }, slots: { m: 'm', v: 'v' } };
    case 'sgd':
      return {
        spec: { kind: 'sgd', momentum: config.momentum ?? 0.9 },
        slots: { accumulation: 'momentum' },
      };
    default:
      throw new EbmError(
        'UNSUPPORTED',
        `${recipe}: engine 'onnxruntime' cannot compile optimizer "${config.name}" yet; supported: adam, sgd.`,
      );
  }
}
