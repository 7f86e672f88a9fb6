import { validate } from '@ebmjs/core';
import type { ImageDataset } from '../../datasets/dataset.js';
import { knnAccuracy } from '../knn-accuracy.js';
import { checkLabelled } from './check-labelled.js';
import type { Monitor } from './monitor.js';

export interface KnnMonitorOptions {
  /** Labelled images whose embeddings vote (`ebm eval --train-limit`'s training images). */
  bank: ImageDataset;
  /** Labelled images scored against the bank. */
  test: ImageDataset;
  /** Measure after every this many epochs (and after the plan's last). Default 1. */
  every?: number;
  /** Neighbours that vote. Default 200, as `knnEvaluate` and `ebm eval`. */
  k?: number;
  /** Vote weight exp(cos / temperature). Default 0.1, as `knnEvaluate` and `ebm eval`. */
  temperature?: number;
}

/**
 * Weighted kNN accuracy of the encoder while it trains, as `knn` (a fraction) in the epoch
 * record: the bank and the test images are embedded afresh each time and scored by
 * `knnAccuracy`, the function `evaluateEmbedder` and `ebm eval` use, so the last value equals
 * their kNN on the same images, k and temperature.
 */
export function knnMonitor(options: KnnMonitorOptions): Monitor {
  const { every = 1, k = 200, temperature = 0.1 } = options;
  validate.assertNumber(every, 'knnMonitor: every', { min: 1, integer: true });
  validate.assertNumber(k, 'knnMonitor: k', { min: 1, integer: true });
  validate.assertNumber(temperature, 'knnMonitor: temperature', { min: 0, exclusiveMin: true });
  const bank = checkLabelled(options.bank, 'knnMonitor: bank');
  const test = checkLabelled(options.test, 'knnMonitor: test');
  return {
    name: 'knnMonitor',
    every,
    measure: (context) => ({
      knn: knnAccuracy(
        { embeddings: context.embed(bank), dataset: bank },
        { embeddings: context.embed(test), dataset: test },
        { k, temperature },
      ),
    }),
  };
}
