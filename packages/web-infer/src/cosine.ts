import { describe, EbmError } from './errors.js';

function assertVectors(a: ArrayLike<number>, b: ArrayLike<number>, where: string): void {
  for (const [name, v] of [
    ['a', a],
    ['b', b],
  ] as const) {
    if (typeof v !== 'object' || v === null || typeof v.length !== 'number') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: "${name}" must be an array of numbers or a typed array, received ${describe(v)}.`,
        { argument: name },
      );
    }
  }
  if (a.length !== b.length) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${where}: vectors must have the same length, received ${a.length} and ${b.length}.`,
      { expected: a.length, received: b.length },
    );
  }
}

/** Euclidean norm. */
export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** A unit-length copy of `v` (a zero vector stays zero). */
export function l2Normalize(v: ArrayLike<number>): Float32Array {
  const n = norm(v);
  const out = new Float32Array(v.length);
  if (n === 0) return out;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

/** cos(a, b) in [−1, 1]; 0 when either vector is zero. Computed in float64. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertVectors(a, b, 'cosineSimilarity');
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (na === 0 || nb === 0) return 0;
  return Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
}

/**
 * The cosine energy of a pair, F(x, y) = −cos(x, y) / temperature, as `energies.cosine` of
 * @ebmjs/core defines it: low for compatible pairs (same image, two views), high otherwise.
 */
export function cosineEnergy(a: ArrayLike<number>, b: ArrayLike<number>, temperature = 1): number {
  if (!(typeof temperature === 'number' && temperature > 0 && Number.isFinite(temperature))) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `cosineEnergy: temperature must be a positive finite number, received ${describe(temperature)}.`,
      { option: 'temperature', received: temperature },
    );
  }
  return -cosineSimilarity(a, b) / temperature;
}
