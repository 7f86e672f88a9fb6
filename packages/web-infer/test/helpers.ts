import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export interface Reference {
  images: { file: string; cls: string; width: number; height: number }[];
  models: Record<string, { file: string; inputs?: number[][] }>;
  /** Raw tfjs outputs (before any normalization) by model, then image file or vector index. */
  embeddings: Record<string, Record<string, number[]>>;
}

export const reference: Reference = JSON.parse(
  readFileSync(join(FIXTURES, 'reference.json'), 'utf8'),
);

export const IMAGE_MODELS = ['conv-rgb-nchw', 'conv-gray-fixed4', 'conv-free-size'] as const;

export const fixture = (file: string): string => join(FIXTURES, file);
export const modelPath = (name: string): string => fixture(`${name}.onnx`);
export const imagePaths = (): string[] => reference.images.map((i) => fixture(i.file));

export function l2(v: ArrayLike<number>): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s);
  return Float32Array.from(v, (x) => x / n);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

/** Largest difference over matched rows. */
export function worstDiff(
  a: readonly ArrayLike<number>[],
  b: readonly ArrayLike<number>[],
): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  return Math.max(0, ...a.map((row, i) => maxAbsDiff(row, b[i]!)));
}

/** Appends a metadata_props entry to ONNX bytes (a later entry for a key wins when read). */
export function withMetadata(bytes: Uint8Array, key: string, value: string): Uint8Array {
  const enc = new TextEncoder();
  const field = (num: number, payload: Uint8Array) => [
    ...varint(num * 8 + 2),
    ...varint(payload.length),
    ...payload,
  ];
  const entry = new Uint8Array([...field(1, enc.encode(key)), ...field(2, enc.encode(value))]);
  return new Uint8Array([...bytes, ...field(14, entry)]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A hand-built ModelProto: graph inputs as [name, elemType, dims] and one float output. */
export function handMadeModel(
  inputs: [string, number, number[]][],
  output: [string, number, number[]] = ['y', 1, [1, 4]],
): Uint8Array {
  const enc = new TextEncoder();
  const ld = (num: number, payload: number[] | Uint8Array) => [
    ...varint(num * 8 + 2),
    ...varint(payload.length),
    ...payload,
  ];
  const vint = (num: number, v: number) => [...varint(num * 8), ...varint(v)];
  const valueInfo = ([name, type, dims]: [string, number, number[]]) =>
    ld(1, enc.encode(name)).concat(
      ld(
        2,
        ld(1, [
          ...vint(1, type),
          ...ld(
            2,
            dims.flatMap((d) => ld(1, vint(1, d))),
          ),
        ]),
      ),
    );
  const graph = [
    ...ld(2, enc.encode('g')),
    ...inputs.flatMap((i) => ld(11, valueInfo(i))),
    ...ld(12, valueInfo(output)),
  ];
  return new Uint8Array([...vint(1, 8), ...ld(7, graph), ...ld(8, vint(2, 17))]);
}
