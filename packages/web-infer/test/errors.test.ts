import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configureRuntime,
  type EbmErrorCode,
  FeatureExtractor,
  isEbmError,
} from '../src/index.node.js';
import {
  fixture,
  handMadeModel,
  l2,
  maxAbsDiff,
  modelPath,
  reference,
  withMetadata,
} from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

async function expectError(p: Promise<unknown>, code: EbmErrorCode, ...parts: (string | RegExp)[]) {
  const error = await rejection(p);
  expect(isEbmError(error), String(error)).toBe(true);
  expect(error.name).toBe('EbmError');
  expect(error.code, error.message).toBe(code);
  for (const part of parts) expect(error.message).toMatch(part);
  return error;
}

let dir: string;
let good: Uint8Array;
beforeAll(async () => {
  // Process-wide, once: some extractors below pass the (deprecated) threads: 1, some nothing.
  configureRuntime({ threads: 1 });
  dir = await mkdtemp(join(tmpdir(), 'web-infer-errors-'));
  good = await readFile(modelPath('conv-rgb-nchw'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('models it cannot serve give clear errors', () => {
  it('corrupt bytes: random, truncated, empty, text', async () => {
    let seed = 7;
    const random = Uint8Array.from({ length: 4096 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed & 0xff;
    });
    await expectError(FeatureExtractor.create(random), 'CORRUPT_FILE', /Not a valid ONNX model/);
    await expectError(
      FeatureExtractor.create(good.subarray(0, good.length - 100)),
      'CORRUPT_FILE',
      /truncated|runs past the end/,
    );
    await expectError(FeatureExtractor.create(new Uint8Array(0)), 'CORRUPT_FILE', /empty/);
    const text = join(dir, 'model.onnx');
    await writeFile(text, 'this is not a model\n');
    await expectError(FeatureExtractor.create(text), 'CORRUPT_FILE', text);
  });

  it('a well-formed protobuf that ONNX Runtime rejects (graph without nodes) is CORRUPT_FILE from ORT', async () => {
    const bytes = handMadeModel([['x', 1, [1, 4]]]);
    await expectError(
      FeatureExtractor.create(bytes, { device: 'cpu' }),
      'CORRUPT_FILE',
      /ONNX Runtime \(cpu\)/,
    );
  });

  it('several inputs, an int64 input, missing file, bad metadata, bad options', async () => {
    await expectError(
      FeatureExtractor.create(
        handMadeModel([
          ['a', 1, [1, 4]],
          ['b', 1, [1, 4]],
        ]),
      ),
      'UNSUPPORTED',
      /takes 2 inputs \(a, b\)/,
    );
    await expectError(
      FeatureExtractor.create(handMadeModel([['ids', 7, [1, 4]]])),
      'UNSUPPORTED',
      /"ids" is int64.*float32/,
    );
    await expectError(FeatureExtractor.create(join(dir, 'nope.onnx')), 'IO', /no such file/);
    await expectError(
      FeatureExtractor.create(withMetadata(good, 'ebmjs.input_shape', '[null,3,64,64]')),
      'CORRUPT_FILE',
      /disagrees with its graph input shape \[\?, 3, 32, 32\]/,
    );
    await expectError(
      FeatureExtractor.create(withMetadata(good, 'ebmjs.preprocessing.mean', '[0.5,0.5]')),
      'SHAPE_MISMATCH',
      /"mean" has 2 values but the model input has 3 channels/,
    );
    await expectError(
      FeatureExtractor.create(withMetadata(good, 'ebmjs.preprocessing.std', 'zero')),
      'CORRUPT_FILE',
      /ebmjs\.preprocessing\.std/,
    );
    await expectError(
      FeatureExtractor.create(good, { device: 'tpu' as 'cpu' }),
      'INVALID_ARGUMENT',
      /"device".*"tpu"/,
    );
    await expectError(
      FeatureExtractor.create(good, { batch: 3 } as object),
      'INVALID_ARGUMENT',
      /unknown option "batch"/,
    );
    await expectError(
      FeatureExtractor.create(good, { batchSize: 0 }),
      'INVALID_ARGUMENT',
      /batchSize/,
    );
    await expectError(
      FeatureExtractor.create(42 as unknown as string),
      'INVALID_ARGUMENT',
      /model file path/,
    );
  });
});

describe('bad inputs give clear errors and leave the extractor usable', () => {
  let fx: FeatureExtractor;
  const file = 'gallery/diamond-2.png';
  const expected = l2(reference.embeddings['conv-rgb-nchw']![file]!);
  const stillWorks = async () => {
    const e = await fx.extract(fixture(file));
    expect(maxAbsDiff(e, expected)).toBeLessThanOrEqual(1e-4);
  };
  beforeAll(async () => {
    fx = await FeatureExtractor.create(modelPath('conv-rgb-nchw'), { device: 'cpu', threads: 1 });
  });
  afterAll(() => fx.dispose());

  it('wrong input size: typed array and tensor', async () => {
    await expectError(
      fx.extract(new Float32Array(10)),
      'SHAPE_MISMATCH',
      /expected 3072 values.*\[3, 32, 32\].*received 10/,
    );
    await stillWorks();
    await expectError(
      fx.extract({ data: new Float32Array(2 * 3 * 28 * 28), dims: [2, 3, 28, 28] }),
      'SHAPE_MISMATCH',
      /expected dims \[batch, 3, 32, 32\].*received dims \[2, 3, 28, 28\]/,
    );
    await expectError(
      fx.extract({ data: new Float32Array(5), dims: [1, 3, 32, 32] }),
      'SHAPE_MISMATCH',
      /5 values/,
    );
    await stillWorks();
  });

  it('a non-image file, a missing file, garbage bytes and an unknown input type', async () => {
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'hello, not an image\n');
    await expectError(
      fx.extract(notes),
      'INVALID_ARGUMENT',
      notes,
      /not an image sharp can decode/,
    );
    await stillWorks();
    await expectError(fx.extract(join(dir, 'missing.png')), 'IO', /no such file/);
    await expectError(fx.extract(new Uint8Array([1, 2, 3])), 'INVALID_ARGUMENT', /3 bytes/);
    await expectError(
      fx.extract({ foo: 1 } as unknown as string),
      'INVALID_ARGUMENT',
      /expected an image file path/,
    );
    await expectError(
      fx.extract({ data: new Uint8Array(10), width: 2, height: 2 }),
      'SHAPE_MISMATCH',
      /received 10 values/,
    );
    await stillWorks();
  });

  it('one bad file in a batch fails that call with its index; calls around it succeed', async () => {
    const notes = join(dir, 'notes2.txt');
    await writeFile(notes, 'still not an image');
    const good1 = fixture('gallery/circle-3.png');
    const results = await Promise.allSettled([
      fx.extract(good1),
      fx.extract([good1, notes, good1]),
      fx.extract(fixture(file)),
    ]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[2]!.status).toBe('fulfilled');
    const bad = results[1] as PromiseRejectedResult;
    expect(bad.reason.code).toBe('INVALID_ARGUMENT');
    expect(bad.reason.message).toMatch(/^inputs\[1\]: /);
    expect(
      maxAbsDiff((results[2] as PromiseFulfilledResult<Float32Array>).value, expected),
    ).toBeLessThanOrEqual(1e-4);
    await stillWorks();
  });

  it('a model without images refuses image inputs', async () => {
    const mlp = await FeatureExtractor.create(modelPath('mlp'), { device: 'cpu', threads: 1 });
    await expectError(mlp.extract(fixture(file)), 'UNSUPPORTED', /does not take images/);
    expect((await mlp.extract(new Float32Array(8))).length).toBe(4);
    await mlp.dispose();
  });

  it('dispose: queued calls reject with DISPOSED, later calls too; dispose twice is fine', async () => {
    const own = await FeatureExtractor.create(modelPath('conv-rgb-nchw'), {
      device: 'cpu',
      threads: 1,
    });
    const first = await own.extract(fixture(file));
    expect(maxAbsDiff(first, expected)).toBeLessThanOrEqual(1e-4);
    // Queue several calls, then dispose while they wait.
    const queued = Promise.allSettled(
      Array.from({ length: 6 }, () => own.extract(new Float32Array(3072))),
    );
    await own.dispose();
    await own.dispose();
    const settled = await queued;
    for (const s of settled) {
      // Either it ran before dispose or it was rejected as DISPOSED, never anything else.
      if (s.status === 'rejected') expect(s.reason.code).toBe('DISPOSED');
    }
    expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThan(0);
    expect(own.disposed).toBe(true);
    await expectError(own.extract(fixture(file)), 'DISPOSED', /disposed/);
  });
});
