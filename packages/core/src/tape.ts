import * as tf from '@tensorflow/tfjs-core';

interface TapeState {
  state: { activeTape: { saved: tf.Tensor[] }[] | null; gradientDepth: number };
}

/**
 * Runs `fn` with the active gradient tape paused, so nothing it computes is differentiated by
 * an enclosing `tf.grad` / `optimizer.minimize` (its own inner `tf.grad` calls still work).
 * tfjs has no `no_grad` scope: nested gradients share one tape, so a sampler that calls
 * `tf.grad` inside a loss would otherwise be backpropagated through, chain and all. This
 * touches tfjs-core 4.x engine state; callers that need a hard guarantee also pass results
 * through `stopGradient`.
 */
export function untaped<T>(fn: () => T): T {
  const { state } = tf.engine() as unknown as TapeState;
  if (state.gradientDepth === 0) return fn();
  const { gradientDepth, activeTape } = state;
  state.gradientDepth = 0;
  state.activeTape = null;
  try {
    return fn();
  } finally {
    state.gradientDepth = gradientDepth;
    state.activeTape = activeTape;
  }
}

const identityNoGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** The value of `x` with a zero gradient: what `tf.stop_gradient` / `.detach()` do elsewhere. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return identityNoGrad(x) as T;
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
