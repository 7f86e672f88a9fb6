// One SimCLR training step on tfjs, the same computation as bench/torch_bench.py.
import * as tf from '@tensorflow/tfjs-core';

/** NT-Xent (SimCLR's loss): cosine similarities / τ, the diagonal masked with a large finite value. */
export function ntXent(z1, z2, tau, diagonalMask) {
  const n = z1.shape[0];
  const z = tf.concat([z1, z2], 0);
  const zn = tf.div(z, tf.sqrt(tf.maximum(tf.sum(tf.square(z), 1, true), 1e-12)));
  const logits = tf.sub(tf.div(tf.matMul(zn, zn, false, true), tau), diagonalMask);
  // The positive of row i is row i + n (and of row i + n, row i).
  const positives = tf.concat([tf.range(n, 2 * n, 1, 'int32'), tf.range(0, n, 1, 'int32')]);
  const onehot = tf.oneHot(positives, 2 * n);
  const lse = tf.logSumExp(logits, 1);
  return tf.mean(tf.sub(lse, tf.sum(tf.mul(logits, onehot), 1)));
}

/**
 * Builds `step()`: both views through encoder + head as one batch of 2B (BatchNorm sees both
 * views, as in the PyTorch baseline), NT-Xent at τ = 0.5, Adam (lr 1e-3). Returns the loss.
 */
export function makeSimclrStep({ encoder, head, views, tau = 0.5 }) {
  const [v1, v2] = views;
  const batch = v1.shape[0];
  const input = tf.concat([v1, v2], 0);
  const mask = tf.mul(tf.eye(2 * batch), 1e9);
  const optimizer = tf.train.adam(1e-3);
  const varList = [...encoder.trainableWeights, ...head.trainableWeights].map((w) => w.read());
  const step = () => {
    const loss = optimizer.minimize(
      () => {
        const z = head.apply(encoder.apply(input, { training: true }), { training: true });
        const [z1, z2] = tf.split(z, 2, 0);
        return ntXent(z1, z2, tau, mask);
      },
      true,
      varList,
    );
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  const dispose = () => {
    input.dispose();
    mask.dispose();
    optimizer.dispose();
  };
  return { step, dispose };
}
