import { resolveOptions } from '@ebmjs/contract';
import { EbmError, Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import { positiveInt, seed } from './checks.js';
import { loadBundle, type SaveTarget, StateReader, saveBundle } from './persistence.js';

export interface RBMOptions {
  numVisible: number;
  numHidden: number;
  /** Standard deviation of the initial weights (biases start at 0). Default 0.01 (Hinton's guide). */
  initStd?: number;
  /** Seeds the init and the default sampling stream. Default 0. */
  seed?: number;
}

export interface GibbsChain {
  /** Visible states after k steps, [n, numVisible] of 0/1. */
  v: tf.Tensor2D;
  /** Hidden states drawn from p(h | v) of the final v, [n, numHidden]. */
  h: tf.Tensor2D;
}

/**
 * A binary restricted Boltzmann machine: E(v, h) = −bᵀv − cᵀh − vᵀWh with v ∈ {0,1}^V,
 * h ∈ {0,1}^H. The hidden units marginalise in closed form, giving the free energy
 * F(v) = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j), which is what the contrastive losses of
 * @ebmjs/losses (CD, PCD, ratio matching, MPF) take: pass `rbm.freeEnergy` as the energy
 * function and `rbm.trainableVariables` as the variables.
 */
export class RBM {
  readonly numVisible: number;
  readonly numHidden: number;
  /** W, [numVisible, numHidden]. */
  readonly weights: tf.Variable;
  /** b, [numVisible]. */
  readonly visibleBias: tf.Variable;
  /** c, [numHidden]. */
  readonly hiddenBias: tf.Variable;
  private rng: Rng;
  private disposed = false;

  constructor(options: RBMOptions) {
    const where = 'RBM';
    const o = resolveOptions(where, options, {
      numVisible: undefined,
      numHidden: undefined,
      initStd: 0.01,
      seed: 0,
    });
    this.numVisible = positiveInt(o.numVisible, `${where}: numVisible`);
    this.numHidden = positiveInt(o.numHidden, `${where}: numHidden`);
    validate.assertNumber(o.initStd, `${where}: initStd`, { min: 0 });
    const std = o.initStd;
    this.rng = new Rng(seed(o.seed, `${where}: seed`));
    const initSeed = this.rng.seed();
    // Inside tidy so the initial values are freed once the variables hold their data.
    [this.weights, this.visibleBias, this.hiddenBias] = tf.tidy(() => [
      tf.variable(
        tf.randomNormal([this.numVisible, this.numHidden], 0, std, 'float32', initSeed),
        true,
      ),
      tf.variable(tf.zeros([this.numVisible]), true),
      tf.variable(tf.zeros([this.numHidden]), true),
    ]);
  }

  /** [W, b, c], for optimizers and `tf.variableGrads`. */
  get trainableVariables(): tf.Variable[] {
    return [this.weights, this.visibleBias, this.hiddenBias];
  }

  /**
   * F(v) = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j) = −log Σ_h exp(−E(v, h)); v: [n, numVisible]
   * (binary or, for mean-field uses, in [0, 1]) → [n]. An arrow property, so it can be passed
   * around as an energy function.
   *
   * This is the hot path of ratio matching, MPF and Gibbs sampling (2·V calls a sweep), so it
   * checks only what costs nothing (a live RBM, a float32 tensor of shape [n, numVisible]) and
   * never reads back from the device: a NaN in v gives NaN energies. `checkedFreeEnergy` also
   * scans v for NaN/Infinity.
   */
  readonly freeEnergy = (v: tf.Tensor): tf.Tensor1D => {
    this.assertVisible(v, 'RBM.freeEnergy: v', false);
    return this.freeEnergyOf(v);
  };

  /**
   * `freeEnergy` with the full input check: also throws NON_FINITE when v holds NaN or
   * Infinity, at the cost of one read back from the device per call (skipped while
   * `setFiniteChecks(false)`). For inputs from outside, not for a sampler's inner loop.
   */
  readonly checkedFreeEnergy = (v: tf.Tensor): tf.Tensor1D => {
    this.assertVisible(v, 'RBM.checkedFreeEnergy: v');
    return this.freeEnergyOf(v);
  };

  private freeEnergyOf(v: tf.Tensor): tf.Tensor1D {
    return tf.tidy(() => {
      const vb = tf.sum(tf.mul(v, this.visibleBias), 1);
      const hidden = tf.sum(tf.softplus(tf.add(tf.matMul(v, this.weights), this.hiddenBias)), 1);
      return tf.neg(tf.add(vb, hidden)) as tf.Tensor1D;
    });
  }

  /** E(v, h) = −bᵀv − cᵀh − vᵀWh; v: [n, V], h: [n, H] → [n]. */
  energy(v: tf.Tensor, h: tf.Tensor): tf.Tensor1D {
    this.assertVisible(v, 'RBM.energy: v');
    this.assertHidden(h, 'RBM.energy: h');
    validate.assertSameDim(v, 0, 'RBM.energy: v', h, 0, 'RBM.energy: h');
    return tf.tidy(() => {
      const vb = tf.sum(tf.mul(v, this.visibleBias), 1);
      const hc = tf.sum(tf.mul(h, this.hiddenBias), 1);
      const vwh = tf.sum(tf.mul(tf.matMul(v, this.weights), h), 1);
      return tf.neg(tf.add(tf.add(vb, hc), vwh)) as tf.Tensor1D;
    });
  }

  /** p(h_j = 1 | v) = σ(c_j + (vᵀW)_j), [n, H]. */
  hiddenProbs(v: tf.Tensor): tf.Tensor2D {
    this.assertVisible(v, 'RBM.hiddenProbs: v');
    return this.hiddenProbsOf(v);
  }

  /** p(v_i = 1 | h) = σ(b_i + (Wh)_i), [n, V]. */
  visibleProbs(h: tf.Tensor): tf.Tensor2D {
    this.assertHidden(h, 'RBM.visibleProbs: h');
    return this.visibleProbsOf(h);
  }

  /** h ~ p(h | v). */
  sampleHidden(v: tf.Tensor, seed?: number): tf.Tensor2D {
    const p = this.hiddenProbs(v);
    return this.bernoulli(p, seed);
  }

  /** v ~ p(v | h). */
  sampleVisible(h: tf.Tensor, seed?: number): tf.Tensor2D {
    const p = this.visibleProbs(h);
    return this.bernoulli(p, seed);
  }

  /**
   * k steps of block Gibbs sampling from v0 [n, V]: h ~ p(h|v), v ~ p(v|h), in parallel over
   * the n chains. With a seed the run is reproducible on its own; without one it continues the
   * RBM's seeded stream.
   */
  sample(v0: tf.Tensor, k = 1, seed?: number): GibbsChain {
    this.assertVisible(v0, 'RBM.sample: v0');
    validate.assertNumber(k, 'RBM.sample: k', { min: 0, integer: true });
    const rng = seed === undefined ? this.rng : new Rng(seed);
    let v = tf.clone(v0) as tf.Tensor2D;
    for (let step = 0; step < k; step++) {
      const next = tf.tidy(() => {
        const h = this.bernoulli(this.hiddenProbsOf(v), rng.seed());
        return this.bernoulli(this.visibleProbsOf(h), rng.seed());
      });
      v.dispose();
      v = next;
    }
    const h = this.bernoulli(this.hiddenProbsOf(v), rng.seed());
    return { v, h };
  }

  /** Overwrites any of W, b, c (for tests, pretrained weights, or weight tying). */
  assign(values: {
    weights?: tf.Tensor | number[][];
    visibleBias?: tf.Tensor | number[];
    hiddenBias?: tf.Tensor | number[];
  }): void {
    this.assertLive();
    const set = (
      variable: tf.Variable,
      value: tf.Tensor | number[] | number[][] | undefined,
      what: string,
    ) => {
      if (value === undefined) return;
      const t = value instanceof tf.Tensor ? value : tf.tensor(value);
      try {
        validate.assertFloatTensor(t, variable.rank, what);
        if (!tf.util.arraysEqual(t.shape, variable.shape)) {
          throw new EbmError(
            'SHAPE_MISMATCH',
            `${what} must have shape ${validate.shapeString(variable.shape)}, received ${validate.shapeString(t.shape)}.`,
          );
        }
        variable.assign(t);
      } finally {
        if (t !== value) t.dispose();
      }
    };
    set(this.weights, values.weights, 'RBM.assign: weights');
    set(this.visibleBias, values.visibleBias, 'RBM.assign: visibleBias');
    set(this.hiddenBias, values.hiddenBias, 'RBM.assign: hiddenBias');
  }

  async save(target: SaveTarget): Promise<void> {
    this.assertLive();
    await saveBundle(target, 'rbm', {
      state: {
        numVisible: this.numVisible,
        numHidden: this.numHidden,
        rngState: this.rng.stateValue,
      },
      tensors: {
        weights: this.weights,
        visible_bias: this.visibleBias,
        hidden_bias: this.hiddenBias,
      },
    });
  }

  static async load(target: SaveTarget): Promise<RBM> {
    const bundle = await loadBundle(target, 'rbm', {
      tensors: ['weights', 'visible_bias', 'hidden_bias'],
    });
    const s = new StateReader(bundle.state, bundle.where);
    const numVisible = s.int('numVisible', { min: 1 });
    const numHidden = s.int('numHidden', { min: 1 });
    const w = StateReader.tensor(bundle, 'weights', [numVisible, numHidden]);
    const b = StateReader.tensor(bundle, 'visible_bias', [numVisible]);
    const c = StateReader.tensor(bundle, 'hidden_bias', [numHidden]);
    const rngState = s.int('rngState', { min: 0, max: 2 ** 32 - 1 });
    const rbm = new RBM({ numVisible, numHidden, initStd: 0 });
    tf.tidy(() => {
      rbm.weights.assign(tf.tensor2d(w.data, [numVisible, numHidden]));
      rbm.visibleBias.assign(tf.tensor1d(b.data));
      rbm.hiddenBias.assign(tf.tensor1d(c.data));
    });
    rbm.rng = new Rng(rngState);
    return rbm;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([this.weights, this.visibleBias, this.hiddenBias]);
  }

  // Unchecked conditionals for the sampling loop: its input was validated once.
  private hiddenProbsOf(v: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() =>
      tf.sigmoid(tf.add(tf.matMul(v, this.weights), this.hiddenBias)),
    ) as tf.Tensor2D;
  }

  private visibleProbsOf(h: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() =>
      tf.sigmoid(tf.add(tf.matMul(h, this.weights, false, true), this.visibleBias)),
    ) as tf.Tensor2D;
  }

  /** Draws Bernoulli(p) and frees p. */
  private bernoulli(p: tf.Tensor2D, seed?: number): tf.Tensor2D {
    const s = seed ?? this.rng.seed();
    return tf.tidy(() => {
      const u = tf.randomUniform(p.shape, 0, 1, 'float32', s);
      const out = tf.cast(tf.less(u, p), 'float32') as tf.Tensor2D;
      p.dispose();
      return out;
    });
  }

  private assertLive(): void {
    if (this.disposed) throw new EbmError('DISPOSED', 'RBM has been disposed.');
  }

  /** Live RBM, float32 [n, numVisible]; with `finite` (default) also no NaN/Infinity (a device read). */
  private assertVisible(v: unknown, what: string, finite = true): asserts v is tf.Tensor {
    this.assertLive();
    validate.assertRank(v, 2, what);
    validate.assertFloat(v, what);
    if (v.shape[1] !== this.numVisible) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${what} must have shape [n, ${this.numVisible}], received ${validate.shapeString(v.shape)}.`,
        { expected: [null, this.numVisible], received: v.shape },
      );
    }
    if (finite) validate.assertFinite(v, what);
  }

  private assertHidden(h: unknown, what: string): asserts h is tf.Tensor {
    this.assertLive();
    validate.assertFloatTensor(h, 2, what);
    if (h.shape[1] !== this.numHidden) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${what} must have shape [n, ${this.numHidden}], received ${validate.shapeString(h.shape)}.`,
        { expected: [null, this.numHidden], received: h.shape },
      );
    }
  }
}
