/**
 * scikit-learn's BernoulliRBM (sklearn/neural_network/_rbm.py) in float64, written out here
 * independently of ebm.js so the lab's PCD can be held against the reference library's
 * algorithm on data small enough for a unit test:
 *   - W ~ N(0, 0.01²), intercepts 0; one persistent chain per batch row, kept as hidden
 *     states `hSamples` (all 0 at the start);
 *   - each minibatch: h⁺ = σ(v⁺W + c) (probabilities), v⁻ ~ p(v | hSamples) (sampled),
 *     h⁻ = σ(v⁻W + c) (probabilities);
 *   - W += lr/n · (v⁺ᵀh⁺ − v⁻ᵀh⁻), c += lr/n · Σ(h⁺ − h⁻), b += lr/n · Σ(v⁺ − v⁻): plain SGD
 *     on the batch mean, no momentum, no weight decay, constant rate;
 *   - hSamples ~ Bernoulli(h⁻).
 * sklearn walks the data in fixed order; here the batches are seeded random draws, as ebm.js's
 * loop makes them (it does not change the algorithm).
 */

/** mulberry32: a small seeded uniform generator. */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

export interface Float64Rbm {
  numVisible: number;
  numHidden: number;
  /** [V × H], row-major. */
  w: Float64Array;
  b: Float64Array;
  c: Float64Array;
}

export interface SklearnPcdOptions {
  numHidden: number;
  learningRate: number;
  batchSize: number;
  steps: number;
  seed: number;
}

/** Trains scikit-learn's PCD on binary rows `data` [n × V] (0/1). */
export function sklearnPcd(
  data: Float64Array,
  numVisible: number,
  o: SklearnPcdOptions,
): Float64Rbm {
  const { numHidden: nh, batchSize: m, learningRate } = o;
  const nv = numVisible;
  const n = data.length / nv;
  const rand = uniform(o.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const w = Float64Array.from({ length: nv * nh }, () => 0.01 * normal());
  const b = new Float64Array(nv);
  const c = new Float64Array(nh);
  let hSamples = new Float64Array(m * nh);
  const hPos = new Float64Array(m * nh);
  const vNeg = new Float64Array(m * nv);
  const hNeg = new Float64Array(m * nh);
  const lr = learningRate / m;
  for (let step = 0; step < o.steps; step++) {
    const rows = Array.from({ length: m }, () => Math.floor(rand() * n));
    const vPos = (r: number, i: number) => data[rows[r]! * nv + i]!;
    for (let r = 0; r < m; r++)
      for (let j = 0; j < nh; j++) {
        let a = c[j]!;
        for (let i = 0; i < nv; i++) a += vPos(r, i) * w[i * nh + j]!;
        hPos[r * nh + j] = sigmoid(a);
      }
    for (let r = 0; r < m; r++)
      for (let i = 0; i < nv; i++) {
        let a = b[i]!;
        for (let j = 0; j < nh; j++) a += hSamples[r * nh + j]! * w[i * nh + j]!;
        vNeg[r * nv + i] = rand() < sigmoid(a) ? 1 : 0;
      }
    for (let r = 0; r < m; r++)
      for (let j = 0; j < nh; j++) {
        let a = c[j]!;
        for (let i = 0; i < nv; i++) a += vNeg[r * nv + i]! * w[i * nh + j]!;
        hNeg[r * nh + j] = sigmoid(a);
      }
    for (let i = 0; i < nv; i++)
      for (let j = 0; j < nh; j++) {
        let g = 0;
        for (let r = 0; r < m; r++)
          g += vPos(r, i) * hPos[r * nh + j]! - vNeg[r * nv + i]! * hNeg[r * nh + j]!;
        w[i * nh + j]! += lr * g;
      }
    for (let j = 0; j < nh; j++) {
      let g = 0;
      for (let r = 0; r < m; r++) g += hPos[r * nh + j]! - hNeg[r * nh + j]!;
      c[j]! += lr * g;
    }
    for (let i = 0; i < nv; i++) {
      let g = 0;
      for (let r = 0; r < m; r++) g += vPos(r, i) - vNeg[r * nv + i]!;
      b[i]! += lr * g;
    }
    const next = new Float64Array(m * nh);
    for (let k = 0; k < next.length; k++) next[k] = rand() < hNeg[k]! ? 1 : 0;
    hSamples = next;
  }
  return { numVisible: nv, numHidden: nh, w, b, c };
}

/** F(v) = −bᵀv − Σ_j softplus(c_j + (vW)_j), float64. */
export function freeEnergy64(rbm: Float64Rbm, v: ArrayLike<number>): number {
  let f = 0;
  for (let i = 0; i < rbm.numVisible; i++) f -= rbm.b[i]! * v[i]!;
  for (let j = 0; j < rbm.numHidden; j++) {
    let a = rbm.c[j]!;
    for (let i = 0; i < rbm.numVisible; i++) a += v[i]! * rbm.w[i * rbm.numHidden + j]!;
    f -= softplus(a);
  }
  return f;
}

/** Mean exact pseudo-log-likelihood Σ_j log σ(F(v̄ʲ) − F(v)) of rows `data`, float64. */
export function pseudoLogLikelihood64(rbm: Float64Rbm, data: Float64Array): number {
  const nv = rbm.numVisible;
  const n = data.length / nv;
  let total = 0;
  for (let r = 0; r < n; r++) {
    const v = Array.from(data.subarray(r * nv, (r + 1) * nv));
    const f = freeEnergy64(rbm, v);
    for (let j = 0; j < nv; j++) {
      v[j] = 1 - v[j]!;
      total -= softplus(-(freeEnergy64(rbm, v) - f));
      v[j] = 1 - v[j]!;
    }
  }
  return total / n;
}
