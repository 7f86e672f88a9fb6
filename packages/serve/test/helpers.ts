import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** web-infer's committed fixtures: exported encoders and synthetic PNGs. */
export const FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'web-infer',
  'test',
  'fixtures',
);
export const modelPath = (name: string): string => join(FIXTURES, `${name}.onnx`);
export const png = (file: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(readFileSync(join(FIXTURES, file)));
export const GALLERY = [
  'gallery/circle-0.png',
  'gallery/square-1.png',
  'gallery/cross-2.png',
  'query/ring.png',
];

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
