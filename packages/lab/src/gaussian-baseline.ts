import { EbmError } from '@ebmjs/core';

/** A 2-D Gaussian fitted by maximum likelihood (mean and full covariance). */
export interface FittedGaussian {
  mean: [number, number];
  /** [[sxx, sxy], [sxy, syy]]. */
  covariance: [[number, number], [number, number]];
  logDensity(x: number, y: number): number;
}

/** The single-Gaussian baseline every lab method has to beat. `points`: row-major [n, 2]. */
export function fitGaussian(points: Float32Array): FittedGaussian {
  const n = points.length / 2;
  if (!(n >= 2 && Number.isInteger(n))) {
    throw new EbmError('INVALID_ARGUMENT', `fitGaussian: needs at least 2 points, received ${n}.`);
  }
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += points[2 * i]!;
    my += points[2 * i + 1]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = points[2 * i]! - mx;
    const dy = points[2 * i + 1]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  sxx /= n;
  sxy /= n;
  syy /= n;
  const det = sxx * syy - sxy * sxy;
  if (!(det > 0)) {
    throw new EbmError('INVALID_ARGUMENT', 'fitGaussian: the points are collinear.');
  }
  const logNorm = Math.log(2 * Math.PI) + 0.5 * Math.log(det);
  return {
    mean: [mx, my],
    covariance: [
      [sxx, sxy],
      [sxy, syy],
    ],
    logDensity(x, y) {
      const dx = x - mx;
      const dy = y - my;
      // (d)ᵀ Σ⁻¹ d with Σ⁻¹ = [[syy, −sxy], [−sxy, sxx]] / det.
      const q = (syy * dx * dx - 2 * sxy * dx * dy + sxx * dy * dy) / det;
      return -0.5 * q - logNorm;
    },
  };
}
