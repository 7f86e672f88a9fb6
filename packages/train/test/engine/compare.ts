import { expect } from 'vitest';

/** max |a − b| ≤ tol · max(|b|, 1e-3): two engines' losses or state tensors agree to rounding. */
export function expectClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tol: number,
  what?: string,
): void {
  expect(a.length, what).toBe(b.length);
  let worst = 0;
  let scale = 1e-3;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  expect(worst / scale, what).toBeLessThan(tol);
}
