import { expect } from 'vitest';

/** Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, naming the first offender. */
export function expectClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  { atol = 1e-5, rtol = 0 }: { atol?: number; rtol?: number } = {},
): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  expect(a.length, 'length').toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(e[i]!);
    const diff = Math.abs(a[i]! - e[i]!);
    if (!(diff <= tol)) {
      expect.fail(`element ${i}: received ${a[i]}, expected ${e[i]} (|diff| ${diff} > tol ${tol})`);
    }
  }
}
