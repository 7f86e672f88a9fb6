import { EbmError, Rng, validate } from '@ebmjs/core';

/** The 2-D toy distributions of the lab (the FFJORD / score-matching test beds). */
export type ToyDatasetName = 'moons' | '8gaussians' | 'rings' | 'checkerboard' | 'pinwheel';

export const TOY_DATASET_NAMES: readonly ToyDatasetName[] = [
  'moons',
  '8gaussians',
  'rings',
  'checkerboard',
  'pinwheel',
];

/** A seeded 2-D distribution. Every one lives inside the box [−4.5, 4.5]² up to a negligible tail. */
export interface ToyDataset {
  readonly name: ToyDatasetName;
  /** Human-readable name for tables and pictures. */
  readonly title: string;
  /** n points as a row-major [n, 2] Float32Array; the same seed gives the same points. */
  sample(n: number, seed: number): Float32Array;
  /**
   * log p(x, y) of the generating distribution, where it has a closed form (or a 1-D integral
   * computed to high accuracy); undefined for pinwheel.
   */
  readonly logDensity?: (x: number, y: number) => number;
  /** How logDensity is obtained, for the report. */
  readonly densityNote: string;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** log N(x, y; (mx, my), s²I). */
function logNormal2(x: number, y: number, mx: number, my: number, s: number): number {
  const dx = x - mx;
  const dy = y - my;
  return -(dx * dx + dy * dy) / (2 * s * s) - LOG_2PI - 2 * Math.log(s);
}

/** Stable log Σ exp(a_i). */
function logSumExpJs(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  if (!Number.isFinite(max)) return max;
  let s = 0;
  for (const v of values) s += Math.exp(v - max);
  return max + Math.log(s);
}

/**
 * log I₀(z) for z ≥ 0, the modified Bessel function of the first kind (Abramowitz & Stegun
 * 9.8.1/9.8.2, relative error below 2e-7), in log form so large arguments do not overflow.
 */
export function logBesselI0(z: number): number {
  const a = Math.abs(z);
  if (a < 3.75) {
    const t = (a / 3.75) ** 2;
    return Math.log(
      1 +
        t *
          (3.5156229 +
            t * (3.0899424 + t * (1.2067492 + t * (0.2659732 + t * (0.0360768 + t * 0.0045813))))),
    );
  }
  const t = 3.75 / a;
  const poly =
    0.39894228 +
    t *
      (0.01328592 +
        t *
          (0.00225319 +
            t *
              (-0.00157565 +
                t *
                  (0.00916281 +
                    t * (-0.02057706 + t * (0.02635537 + t * (-0.01647633 + t * 0.00392377)))))));
  return a - 0.5 * Math.log(a) + Math.log(poly);
}

// ---------------------------------------------------------------------------------------------
// Two moons (scikit-learn's make_moons, centred and scaled ×2; isotropic noise 0.2 after scaling).

const MOON_NOISE = 0.2;
// Points of each moon's arc, for the density integral over the arc parameter t ∈ [0, π].
const MOON_ARC_POINTS = 720;

function moonCentre(moon: number, t: number): [number, number] {
  // make_moons: outer (cos t, sin t), inner (1 − cos t, 0.5 − sin t); then (x − 0.5, y − 0.25)·2.
  return moon === 0
    ? [2 * (Math.cos(t) - 0.5), 2 * (Math.sin(t) - 0.25)]
    : [2 * (0.5 - Math.cos(t)), 2 * (0.25 - Math.sin(t))];
}

const moonArcs: [number, number][][] = [0, 1].map((moon) =>
  Array.from({ length: MOON_ARC_POINTS }, (_, i) =>
    moonCentre(moon, (Math.PI * (i + 0.5)) / MOON_ARC_POINTS),
  ),
);

const moons: ToyDataset = {
  name: 'moons',
  title: 'two moons',
  sample(n, seed) {
    const rng = new Rng(seed);
    const out = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const [cx, cy] = moonCentre(i % 2, Math.PI * rng.next());
      out[2 * i] = cx + MOON_NOISE * rng.normal();
      out[2 * i + 1] = cy + MOON_NOISE * rng.normal();
    }
    return out;
  },
  // p(x) = ½ Σ_moon (1/π) ∫₀^π N(x; c(t), σ²I) dt, by the midpoint rule over 720 arc points
  // (spacing 0.004 rad against a kernel width of about 0.1 rad).
  logDensity(x, y) {
    const terms: number[] = [];
    for (const arc of moonArcs)
      for (const [cx, cy] of arc) terms.push(logNormal2(x, y, cx, cy, MOON_NOISE));
    return logSumExpJs(terms) - Math.log(2 * MOON_ARC_POINTS);
  },
  densityNote: 'mixture over the arcs, integrated numerically (720 points per moon)',
};

// ---------------------------------------------------------------------------------------------
// 8 Gaussians (FFJORD): centres on a circle of radius 4/√2, standard deviation 0.5/√2.

const G8_RADIUS = 4 / Math.SQRT2;
const G8_STD = 0.5 / Math.SQRT2;
const g8Centres: [number, number][] = Array.from({ length: 8 }, (_, k) => [
  G8_RADIUS * Math.cos((k * Math.PI) / 4),
  G8_RADIUS * Math.sin((k * Math.PI) / 4),
]);

const eightGaussians: ToyDataset = {
  name: '8gaussians',
  title: '8 Gaussians',
  sample(n, seed) {
    const rng = new Rng(seed);
    const out = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const [cx, cy] = g8Centres[rng.int(8)]!;
      out[2 * i] = cx + G8_STD * rng.normal();
      out[2 * i + 1] = cy + G8_STD * rng.normal();
    }
    return out;
  },
  logDensity(x, y) {
    return logSumExpJs(g8Centres.map(([cx, cy]) => logNormal2(x, y, cx, cy, G8_STD))) - Math.log(8);
  },
  densityNote: 'closed form: equal mixture of 8 isotropic Gaussians',
};

// ---------------------------------------------------------------------------------------------
// Concentric rings: a point uniform on one of three circles (chosen in proportion to its length,
// so arc-length density is uniform) plus isotropic Gaussian noise.

const RING_RADII = [1.25, 2.5, 3.75];
const RING_NOISE = 0.2;
const ringWeights = RING_RADII.map((r) => r / RING_RADII.reduce((a, b) => a + b, 0));

const rings: ToyDataset = {
  name: 'rings',
  title: 'concentric rings',
  sample(n, seed) {
    const rng = new Rng(seed);
    const out = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      let u = rng.next();
      let k = 0;
      while (k < RING_RADII.length - 1 && u >= ringWeights[k]!) u -= ringWeights[k++]!;
      const theta = 2 * Math.PI * rng.next();
      out[2 * i] = RING_RADII[k]! * Math.cos(theta) + RING_NOISE * rng.normal();
      out[2 * i + 1] = RING_RADII[k]! * Math.sin(theta) + RING_NOISE * rng.normal();
    }
    return out;
  },
  // A circle of radius R blurred by N(0, σ²I) has the closed form
  // p(x) = exp(−(|x|² + R²)/2σ²) · I₀(|x|R/σ²) / (2πσ²).
  logDensity(x, y) {
    const r2 = x * x + y * y;
    const r = Math.sqrt(r2);
    const s2 = RING_NOISE * RING_NOISE;
    return logSumExpJs(
      RING_RADII.map(
        (radius, k) =>
          Math.log(ringWeights[k]!) -
          (r2 + radius * radius) / (2 * s2) +
          logBesselI0((r * radius) / s2) -
          Math.log(2 * Math.PI * s2),
      ),
    );
  },
  densityNote: 'closed form: blurred circles, exp(−(r²+R²)/2σ²)·I₀(rR/σ²)/(2πσ²)',
};

// ---------------------------------------------------------------------------------------------
// Checkerboard (FFJORD): uniform on the 8 dark squares of side 2 of a 4×4 board on [−4, 4]².

const checkerboard: ToyDataset = {
  name: 'checkerboard',
  title: 'checkerboard',
  sample(n, seed) {
    const rng = new Rng(seed);
    const out = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const x1 = 4 * rng.next() - 2;
      const x2 = rng.next() - 2 * rng.int(2) + (((Math.floor(x1) % 2) + 2) % 2);
      out[2 * i] = 2 * x1;
      out[2 * i + 1] = 2 * x2;
    }
    return out;
  },
  logDensity(x, y) {
    if (!(x >= -4 && x < 4 && y >= -4 && y < 4)) return Number.NEGATIVE_INFINITY;
    const cx = Math.floor(x / 2);
    const cy = Math.floor(y / 2);
    // Dark squares: floor(x/2) + floor(y/2) even.
    return (((cx + cy) % 2) + 2) % 2 === 0 ? Math.log(1 / 32) : Number.NEGATIVE_INFINITY;
  },
  densityNote: 'closed form: uniform, 1/32 on 8 squares of side 2',
};

// ---------------------------------------------------------------------------------------------
// Pinwheel (Johnson et al. 2016, as in FFJORD): 5 arms whose rotation grows with the radius.

const pinwheel: ToyDataset = {
  name: 'pinwheel',
  title: 'pinwheel',
  sample(n, seed) {
    const rng = new Rng(seed);
    const out = new Float32Array(2 * n);
    const arms = 5;
    for (let i = 0; i < n; i++) {
      const f0 = 0.3 * rng.normal() + 1;
      const f1 = 0.1 * rng.normal();
      const angle = (2 * Math.PI * rng.int(arms)) / arms + 0.25 * Math.exp(f0);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      out[2 * i] = 2 * (f0 * c + f1 * s);
      out[2 * i + 1] = 2 * (-f0 * s + f1 * c);
    }
    return out;
  },
  densityNote: 'no closed form (the radius-dependent rotation is not a simple change of variables)',
};

const REGISTRY: Record<ToyDatasetName, ToyDataset> = {
  moons,
  '8gaussians': eightGaussians,
  rings,
  checkerboard,
  pinwheel,
};

/** The toy dataset called `name`. */
export function toyDataset(name: string): ToyDataset {
  const ds = (REGISTRY as Record<string, ToyDataset | undefined>)[name];
  if (ds === undefined) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `Unknown toy dataset "${name}". Expected one of: ${TOY_DATASET_NAMES.join(', ')}.`,
      { received: name },
    );
  }
  return ds;
}

/** A seeded train/test draw of a toy dataset (disjoint random streams). */
export function toySplit(
  dataset: ToyDataset,
  { train = 20000, test = 5000, seed = 0 }: { train?: number; test?: number; seed?: number } = {},
): { train: Float32Array; test: Float32Array } {
  validate.assertNumber(train, 'toySplit: train', { min: 1, integer: true });
  validate.assertNumber(test, 'toySplit: test', { min: 1, integer: true });
  return {
    train: dataset.sample(train, seed * 2 + 1),
    test: dataset.sample(test, seed * 2 + 2),
  };
}
