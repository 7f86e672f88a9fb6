import { EbmError, validate } from '@ebmjs/core';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageDataset } from '../../datasets/dataset.js';
import type { StepEvent, TrainingCallbacks } from '../../progress/events.js';
import { type Embedder, embedDataset } from '../embed.js';
import type { Monitor, MonitorContext } from './monitor.js';

export interface TrainingMonitorsOptions {
  /** Images per embedding batch. Default 256, `embedDataset`'s (and so `ebm eval`'s). */
  batchSize?: number;
}

/** Monitors bound to the encoder a recipe trains: its `evaluate` and `callbacks` options. */
export interface TrainingMonitors {
  /**
   * The recipe's `evaluate` option: the numbers of the monitors due after this epoch (every
   * `every`-th epoch, and the plan's last), plus `step`, the optimizer steps done when they were
   * measured; `{}` when none is due.
   */
  evaluate: (epoch: number) => Record<string, number>;
  /**
   * Add to the recipe's `callbacks`: it follows the steps, so the numbers carry their `step` and
   * the plan's last epoch (a time budget's fitted plan included) is always measured.
   */
  callbacks: TrainingCallbacks;
  /** Frees the monitors' state (the online probe's head). */
  dispose(): void;
}

/**
 * Binds monitors to the encoder being trained. The loop's `evaluate(epoch)` gets no model, so
 * the encoder is given here: build it first and pass the same one to the recipe's `encoder`
 * option. Each measurement embeds each dataset once (shared by the monitors) with
 * `embedDataset`, the encoder in inference mode, and frees the embeddings after it.
 *
 * ```ts
 * const encoder = convEncoder({ inputShape: [28, 28, 1] });
 * const monitors = trainingMonitors(encoder, [knnMonitor({ bank, test })]);
 * await trainSimCLR({ dataset, encoder, evaluate: monitors.evaluate, callbacks: [progressBar(), monitors.callbacks] });
 * monitors.dispose();
 * ```
 */
export function trainingMonitors(
  encoder: Embedder | { model: tfl.LayersModel },
  monitors: readonly Monitor[],
  { batchSize }: TrainingMonitorsOptions = {},
): TrainingMonitors {
  // A LayersModel predicts itself (a Sequential also has a .model); an Encoder wraps one.
  const embedder: Embedder =
    typeof encoder === 'function' || 'predict' in encoder ? encoder : encoder.model;
  if (!Array.isArray(monitors) || monitors.some((m) => typeof m?.measure !== 'function'))
    throw new EbmError(
      'INVALID_ARGUMENT',
      'trainingMonitors: expected an array of monitors (knnMonitor, onlineLinearProbe), received something else.',
    );
  if (batchSize !== undefined)
    validate.assertNumber(batchSize, 'trainingMonitors: batchSize', { min: 1, integer: true });
  let last: StepEvent | undefined;
  return {
    callbacks: {
      onStepEnd(event) {
        last = event;
      },
    },
    evaluate(epoch) {
      const final =
        last !== undefined && (epoch + 1 >= last.epochs || last.globalStep >= last.totalSteps);
      const due = monitors.filter((m) => final || (epoch + 1) % m.every === 0);
      if (due.length === 0) return {};
      const embeddings = new Map<ImageDataset, tf.Tensor2D>();
      const context: MonitorContext = {
        epoch,
        ...(last !== undefined ? { step: last.globalStep } : {}),
        embed(dataset) {
          let e = embeddings.get(dataset);
          if (!e) {
            e = embedDataset(embedder, dataset, { batchSize });
            embeddings.set(dataset, e);
          }
          return e;
        },
      };
      try {
        const numbers: Record<string, number> = {};
        for (const monitor of due) Object.assign(numbers, monitor.measure(context));
        if (context.step !== undefined) numbers['step'] = context.step;
        return numbers;
      } finally {
        for (const e of embeddings.values()) e.dispose();
      }
    },
    dispose() {
      for (const monitor of monitors) monitor.dispose?.();
    },
  };
}
