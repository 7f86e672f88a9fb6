/**
 * The top principal components of row vectors (n × d, row-major), by power iteration with
 * deflation on the d × d covariance: enough for a 2-D picture of embeddings, no LAPACK needed.
 */
export function pca(
  data: Float32Array,
  n: number,
  d: number,
  components = 2,
  iterations = 100,
): { projected: Float32Array; variance: number[] } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]! / n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = data[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = 0; b < d; b++) cov[a * d + b]! += (ra * row[b]!) / Math.max(1, n - 1);
    }
  }
  const vectors: Float64Array[] = [];
  const variance: number[] = [];
  for (let c = 0; c < components; c++) {
    let v = Float64Array.from({ length: d }, (_, j) => Math.sin(j + 1 + c));
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += cov[a * d + b]! * v[b]!;
        w[a] = s;
      }
      const norm = Math.hypot(...w) || 1;
      lambda = norm;
      v = w.map((x) => x / norm);
    }
    vectors.push(v);
    variance.push(lambda);
    // Deflate: remove the found direction from the covariance.
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) cov[a * d + b]! -= lambda * v[a]! * v[b]!;
  }
  const projected = new Float32Array(n * components);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < components; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (data[i * d + j]! - mean[j]!) * vectors[c]![j]!;
      projected[i * components + c] = s;
    }
  }
  return { projected, variance };
}
