/** One query's nearest bank rows, best first. */
export interface Neighbours {
  indices: number[];
  similarities: number[];
}

function unitRows(data: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += data[i * d + j]! ** 2;
    const inv = 1 / (Math.sqrt(s) || 1);
    for (let j = 0; j < d; j++) out[i * d + j] = data[i * d + j]! * inv;
  }
  return out;
}

/**
 * The `k` bank rows of highest cosine similarity to each query row (row-major [n × d] arrays),
 * ties broken by the lower index. Plain loops: the report asks this for a dozen queries.
 */
export function cosineTopK(
  queries: Float32Array,
  bank: Float32Array,
  d: number,
  k: number,
): Neighbours[] {
  const nq = queries.length / d;
  const nb = bank.length / d;
  const q = unitRows(queries, nq, d);
  const b = unitRows(bank, nb, d);
  const result: Neighbours[] = [];
  for (let i = 0; i < nq; i++) {
    const best: { index: number; sim: number }[] = [];
    for (let r = 0; r < nb; r++) {
      let sim = 0;
      for (let j = 0; j < d; j++) sim += q[i * d + j]! * b[r * d + j]!;
      if (best.length === k && sim <= best[k - 1]!.sim) continue;
      let at = best.length;
      while (at > 0 && best[at - 1]!.sim < sim) at--;
      best.splice(at, 0, { index: r, sim });
      if (best.length > k) best.pop();
    }
    result.push({ indices: best.map((x) => x.index), similarities: best.map((x) => x.sim) });
  }
  return result;
}
