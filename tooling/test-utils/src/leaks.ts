import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/**
 * Runs `fn` once to warm up, then `repeats` more times, disposing what it returns, and asserts
 * that tf.memory().numTensors is the same after each run: the code under test frees every
 * tensor it creates.
 */
export async function expectNoTensorLeak(fn: () => unknown, repeats = 3): Promise<void> {
  const run = async () => {
    const out = await fn();
    tf.dispose(collectTensors(out));
  };
  await run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) {
    await run();
    expect(tf.memory().numTensors, `numTensors after run ${i + 2}`).toBe(before);
  }
}

function collectTensors(value: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, out);
  else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    for (const v of Object.values(value)) collectTensors(v, out);
  }
  return out;
}
