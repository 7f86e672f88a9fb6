import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll } from 'vitest';

/** Runs the file's tests on tfjs's reference cpu backend (float32, deterministic). */
export function useCpuBackend(): void {
  beforeAll(async () => {
    // IS_TEST silences the cpu backend's "install tfjs-node" banner while it is created; it is
    // switched off again because it also turns on tfjs's internal leak check, which flags
    // tfjs's own softmaxCrossEntropy.
    tf.env().set('IS_TEST', true);
    await tf.setBackend('cpu');
    await tf.ready();
    tf.env().set('IS_TEST', false);
  });
}
