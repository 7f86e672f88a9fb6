import { Rng } from '@ebmjs/core';
import { UMAP } from 'umap-js';

export interface UmapOptions {
  /** Seeds umap-js's random function, so the same embeddings give the same picture. Default 0. */
  seed?: number;
  /** Neighbours of the fuzzy graph. Default 15 (umap-learn's default). */
  nNeighbors?: number;
  minDist?: number;
  /** Optimisation epochs. Default 200 (umap-learn uses 200 for large data, 500 for small). */
  nEpochs?: number;
}

/**
 * A 2-D UMAP (McInnes et al. 2018, via umap-js) of row vectors [n × d], as [n × 2] points.
 * Everything random in umap-js (the NN-descent trees, the initial layout, negative sampling)
 * draws from one seeded Rng.
 */
export function umapProject(
  data: Float32Array,
  n: number,
  d: number,
  { seed = 0, nNeighbors = 15, minDist = 0.1, nEpochs = 200 }: UmapOptions = {},
): Float32Array {
  const rows: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from(data.subarray(i * d, (i + 1) * d)),
  );
  const rng = new Rng(seed);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(nNeighbors, n - 1)),
    minDist,
    nEpochs,
    random: () => rng.next(),
  });
  const points = umap.fit(rows);
  const out = new Float32Array(n * 2);
  points.forEach(([x, y], i) => {
    out[2 * i] = x!;
    out[2 * i + 1] = y!;
  });
  return out;
}
