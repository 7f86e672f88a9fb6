// Bundled by launch-modes.test.ts and run in child processes started in different ways.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/index.js';

/** Starts wasm on 2 threads, computes on it, and says what ran. */
export async function probe(): Promise<string> {
  const info = await selectBackend({ backend: 'wasm', threads: 2, env: {} });
  const sum = tf.tidy(() => {
    const a = tf.ones([64, 64]);
    return tf.sum(tf.matMul(a, a)).dataSync()[0];
  });
  return JSON.stringify({ backend: info.backend, threads: info.threads, sum });
}
