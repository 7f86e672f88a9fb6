import * as tf from '@tensorflow/tfjs-core';

/**
 * Leaner gradients for two ops every BatchNorm layer runs in training, used while the active
 * backend is wasm (other backends keep tfjs's own). On wasm each elementwise pass over an
 * activation costs about what the memory bandwidth allows, so the number of passes is the
 * cost; tfjs-core's versions take ~12 (FusedBatchNorm) and 3 (Mean) full passes where 5 and 1
 * compute the same values:
 * - FusedBatchNorm: dx = dy·(scale/σ); the mean, variance, scale and offset gradients from
 *   Σdy and Σdy·(x − mean) per channel (tfjs tiles 1/σ to the activation shape and multiplies
 *   the full tensors several times);
 * - Mean: dx = broadcast(dy / n) as one Tile (tfjs fills ones(x.shape), multiplies, divides).
 */
type GradFunc = tf.GradConfig['gradFunc'];

const originals = new Map<string, tf.GradConfig>();

function onWasm(kernelName: string, lean: GradFunc): tf.GradConfig {
  const original = originals.get(kernelName)!;
  return {
    ...original,
    gradFunc: (dy, saved, attrs) =>
      tf.getBackend() === 'wasm' ? lean(dy, saved, attrs) : original.gradFunc(dy, saved, attrs),
  };
}

const fusedBatchNormGrad: GradFunc = (dy, saved, attrs) => {
  const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?];
  const g = dy as tf.Tensor;
  if (mean!.rank !== 1 || variance!.rank !== 1 || (scale != null && scale.rank !== 1)) {
    return originals.get('FusedBatchNorm')!.gradFunc(dy, saved, attrs);
  }
  const epsilon = (attrs as { varianceEpsilon: number }).varianceEpsilon;
  const axes = x!.shape.slice(0, -1).map((_, i) => i);
  const rstd = tf.rsqrt(tf.add(variance!, epsilon));
  const gain = scale == null ? rstd : tf.mul(scale, rstd);
  // The per-channel sums several inputs' gradients share. tfjs runs each input's gradient in
  // its own tidy, so they are computed here, once; the full-size temporaries die at once.
  const dySum = tf.sum(g, axes);
  const dyCenteredSum = tf.tidy(() => tf.sum(tf.mul(g, tf.sub(x!, mean!)), axes));
  return {
    x: () => tf.mul(g, gain),
    mean: () => tf.reshape(tf.neg(tf.mul(gain, dySum)), mean!.shape),
    // ∂/∂var of (x − mean)·scale·(var + ε)^−½ summed with dy: −½·scale·σ⁻³·Σ dy·(x − mean).
    variance: () =>
      tf.reshape(
        tf.mul(tf.mul(tf.mul(tf.pow(rstd, 3), -0.5), scale ?? 1), dyCenteredSum),
        mean!.shape,
      ),
    scale: () => tf.reshape(tf.mul(rstd, dyCenteredSum), mean!.shape),
    offset: () => tf.reshape(dySum, mean!.shape),
  };
};

const meanGrad: GradFunc = (dy, saved, attrs) => {
  const [x] = saved as [tf.Tensor];
  const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const reps = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
  return {
    x: () => tf.tile(tf.reshape(tf.div(dy as tf.Tensor, count), expanded), reps),
  };
};

const LEAN: Record<string, GradFunc> = { FusedBatchNorm: fusedBatchNormGrad, Mean: meanGrad };

/** Installs the wasm-aware gradients (idempotent); `restoreGradients` undoes it. */
export function installGradients(): void {
  for (const [name, lean] of Object.entries(LEAN)) {
    if (originals.has(name)) continue;
    const original = tf.getGradient(name);
    // Without tfjs's gradients registered there is nothing to make leaner.
    if (original === undefined) continue;
    originals.set(name, original);
    tf.registerGradient(onWasm(name, lean));
  }
}

export function restoreGradients(): void {
  for (const [name, original] of originals) {
    tf.unregisterGradient(name);
    tf.registerGradient(original);
  }
  originals.clear();
}

export const LEAN_GRADIENTS: readonly string[] = Object.keys(LEAN);
