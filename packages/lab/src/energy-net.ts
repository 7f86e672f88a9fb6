import { EbmError, Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';

export interface EnergyNetOptions {
  /** Input dimension. Default 2. */
  inputDim?: number;
  /** Hidden widths. Default [64, 64]. */
  hiddenUnits?: readonly number[];
  seed?: number;
}

/**
 * A scalar energy E(y) = MLP(y) with swish activations, on raw variables. Swish is smooth, so
 * Langevin sampling sees a continuous gradient and denoising score matching can differentiate
 * the score ∂E/∂y once more (double backprop). Plain variables instead of a LayersModel keep
 * a step to a handful of kernels, which matters for the per-op overhead of small nets.
 */
export class EnergyNet {
  readonly inputDim: number;
  readonly hiddenUnits: readonly number[];
  private readonly weights: tf.Variable[] = [];
  private readonly biases: tf.Variable[] = [];
  private disposed = false;

  constructor(options: EnergyNetOptions = {}) {
    const { inputDim = 2, hiddenUnits = [64, 64] } = options;
    validate.assertNumber(inputDim, 'EnergyNet: inputDim', { min: 1, integer: true });
    if (!Array.isArray(hiddenUnits) || hiddenUnits.some((u) => !Number.isInteger(u) || u < 1)) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `EnergyNet: hiddenUnits must be positive integers, received ${JSON.stringify(hiddenUnits)}.`,
      );
    }
    this.inputDim = inputDim;
    this.hiddenUnits = [...hiddenUnits];
    const rng = new Rng(options.seed ?? 0);
    const sizes = [inputDim, ...hiddenUnits, 1];
    tf.tidy(() => {
      for (let l = 0; l + 1 < sizes.length; l++) {
        const fanIn = sizes[l]!;
        const fanOut = sizes[l + 1]!;
        // He-style scale for swish layers; a small last layer keeps the initial surface flat.
        const std = l + 2 === sizes.length ? 0.1 / Math.sqrt(fanIn) : Math.sqrt(2 / fanIn);
        this.weights.push(
          tf.variable(tf.randomNormal([fanIn, fanOut], 0, std, 'float32', rng.seed()), true),
        );
        this.biases.push(tf.variable(tf.zeros([fanOut]), true));
      }
    });
  }

  /** E(y) for y: [n, inputDim] → [n]. An arrow property, so it can be passed as an energy function. */
  readonly energy = (y: tf.Tensor): tf.Tensor1D => {
    if (this.disposed) throw new EbmError('DISPOSED', 'EnergyNet has been disposed.');
    validate.assertFloatTensor(y, 2, 'EnergyNet.energy: y');
    if (y.shape[1] !== this.inputDim) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `EnergyNet.energy: y must have shape [n, ${this.inputDim}], received ${validate.shapeString(y.shape)}.`,
      );
    }
    return tf.tidy(() => {
      let h: tf.Tensor = y;
      const last = this.weights.length - 1;
      for (let l = 0; l <= last; l++) {
        h = tf.add(tf.matMul(h, this.weights[l]!), this.biases[l]!);
        if (l < last) h = tf.mul(h, tf.sigmoid(h));
      }
      return tf.reshape(h, [-1]) as tf.Tensor1D;
    });
  };

  get trainableVariables(): tf.Variable[] {
    return [...this.weights, ...this.biases];
  }

  /** Number of scalar parameters. */
  get parameterCount(): number {
    return this.trainableVariables.reduce((s, v) => s + v.size, 0);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(this.trainableVariables);
  }
}
