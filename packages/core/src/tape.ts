import * as tf from '@tensorflow/tfjs-core';

interface TapeState {
  state: { activeTape: { saved: tf.Tensor[] }[] | null; gradientDepth: number };
}

/**
 * Runs `fn` (which computes gradients) and, if it throws, closes the gradient tape that tfjs
 * leaves open. tfjs-core's `engine.gradients` restores `gradientDepth` on an exception but not
 * `activeTape`, so after any error inside `tf.grad`/`variableGrads`/`optimizer.minimize` the
 * tensors the failed forward pass saved for backprop are never freed. Bad input must not degrade
 * the process, so every gradient computation of ebm.js on user code runs inside this guard.
 */
export function guardGradientTape<T>(fn: () => T): T {
  const engine = tf.engine() as unknown as TapeState;
  const outerDepth = engine.state.gradientDepth;
  try {
    return fn();
  } catch (error) {
    const tape = engine.state.activeTape;
    if (outerDepth === 0 && tape && engine.state.gradientDepth === 0) {
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
    }
    throw error;
  }
}
