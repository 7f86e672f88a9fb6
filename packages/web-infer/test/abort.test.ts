import { access, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectImageFiles,
  embedFiles,
  FeatureExtractor,
  isEbmError,
  writeEmbeddings,
} from '../src/index.node.js';
import { FIXTURES, fixture, l2, maxAbsDiff, modelPath, reference, worstDiff } from './helpers.js';

const files = reference.images.map((i) => i.file).filter((f) => f.startsWith('gallery/'));
const refOf = (f: string) => l2(reference.embeddings['conv-rgb-nchw']![f]!);

let dir: string;
let fx: FeatureExtractor;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'web-infer-abort-'));
  await cp(join(FIXTURES, 'gallery'), join(dir, 'gallery'), { recursive: true });
  fx = await FeatureExtractor.create(modelPath('conv-rgb-nchw'), {
    device: 'cpu',
    threads: 1,
    batchSize: 4,
  });
});
afterAll(async () => {
  await fx.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** The extractor still answers correctly (nothing stuck in its queue). */
async function stillWorks(): Promise<void> {
  const rows = await fx.extract(files.slice(0, 6).map(fixture));
  expect(worstDiff(rows, files.slice(0, 6).map(refOf))).toBeLessThanOrEqual(1e-4);
}

describe('extract({ signal })', () => {
  it('an already aborted signal rejects with ABORTED before any work, for every input kind', async () => {
    const signal = AbortSignal.abort();
    const before = fx.stats.runs;
    await expect(fx.extract(files.map(fixture), { signal })).rejects.toMatchObject({
      name: 'EbmError',
      code: 'ABORTED',
      message: `extract: aborted after 0 of ${files.length} inputs.`,
    });
    await expect(fx.extract(fixture(files[0]!), { signal })).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'extract: aborted after 0 of 1 inputs.',
    });
    await expect(
      fx.extract({ data: new Float32Array(2 * 3072), dims: [2, 3, 32, 32] }, { signal }),
    ).rejects.toMatchObject({ code: 'ABORTED', message: 'extract: aborted after 0 of 2 samples.' });
    // The reason, when the caller gave one, is the cause and named in the message.
    const why = new Error('user left the page');
    const error = await fx
      .extract([fixture(files[0]!)], { signal: AbortSignal.abort(why) })
      .catch((e: unknown) => e);
    expect(isEbmError(error, 'ABORTED')).toBe(true);
    expect((error as Error).message).toBe(
      'extract: aborted after 0 of 1 inputs (user left the page).',
    );
    expect((error as Error).cause).toBe(why);
    expect(fx.stats.runs).toBe(before);
    await stillWorks();
  });

  it('aborted mid-way: the batches already submitted finish, no further batch runs, then it rejects', async () => {
    const controller = new AbortController();
    const list = Array.from({ length: 20 }, (_, i) => fixture(files[i % files.length]!));
    // Aborts when the 3rd batch (inputs 8–11) is taken from the list.
    Object.defineProperty(list, 9, {
      get: () => {
        controller.abort();
        return fixture(files[9]!);
      },
    });
    const before = fx.stats;
    await expect(fx.extract(list, { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'extract: aborted after 8 of 20 inputs.',
      details: { done: 8, total: 20 },
    });
    expect(fx.stats.runs - before.runs).toBe(2);
    expect(fx.stats.samples - before.samples).toBe(8);
    await stillWorks();
  });

  it('a signal that is never aborted changes nothing; a bad signal or option is INVALID_ARGUMENT', async () => {
    const rows = await fx.extract(files.map(fixture), { signal: new AbortController().signal });
    expect(worstDiff(rows, files.map(refOf))).toBeLessThanOrEqual(1e-4);
    await expect(
      fx.extract(fixture(files[0]!), { signal: 'stop' as unknown as AbortSignal }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/extract: option "signal" must be an AbortSignal, received/),
    });
    await expect(
      fx.extract(fixture(files[0]!), { sginal: AbortSignal.abort() } as object),
    ).rejects.toThrow(/extract: unknown option "sginal". Did you mean "signal"\?/);
  });
});

describe('embedFiles({ signal })', () => {
  it('aborted before the start: ABORTED after 0 files, nothing embedded', async () => {
    const paths = await collectImageFiles([join(dir, 'gallery')]);
    const before = fx.stats.runs;
    await expect(embedFiles(fx, paths, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORTED',
      message: `embedFiles: aborted after 0 of ${paths.length} files.`,
    });
    expect(fx.stats.runs).toBe(before);
  });

  it('aborted from onProgress after 2 batches: rejects naming how far it got, writes no output, the extractor works on', async () => {
    const paths = (await collectImageFiles([join(dir, 'gallery')])).slice(0, 10);
    const controller = new AbortController();
    const progress: number[] = [];
    const out = join(dir, 'out', 'embeddings.npy');
    const run = async () => {
      const { rows } = await embedFiles(fx, paths, {
        signal: controller.signal,
        onProgress: (done) => {
          progress.push(done);
          if (done === 8) controller.abort();
        },
      });
      await writeEmbeddings(out, rows);
    };
    await expect(run()).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'embedFiles: aborted after 8 of 10 files.',
      details: { done: 8, total: 10 },
    });
    expect(progress).toEqual([4, 8]);
    await expect(access(out)).rejects.toMatchObject({ code: 'ENOENT' });
    // Same extractor, same files, no signal: all ten, correct.
    const { rows } = await embedFiles(fx, paths);
    expect(rows.map((r) => r.path)).toEqual(paths);
    const names = paths.map((p) => `gallery/${p.split('/').pop()}`);
    expect(
      worstDiff(
        rows.map((r) => r.embedding),
        names.map(refOf),
      ),
    ).toBeLessThanOrEqual(1e-4);
  });

  it("with onError 'skip', the signal is checked before each file retried alone", async () => {
    const paths = [
      fixture(files[0]!),
      join(dir, 'missing.png'),
      fixture(files[1]!),
      fixture(files[2]!),
    ];
    const controller = new AbortController();
    // The batch fails on the missing file; abort while the first file is retried alone.
    const signal = controller.signal;
    let calls = 0;
    // embedFiles needs only batchSize and extract: wrap the real extractor to count calls.
    const spy = {
      batchSize: fx.batchSize,
      extract: (input: string | string[]) => {
        calls++;
        if (calls === 2) controller.abort(); // the first single-file retry
        return fx.extract(input as string);
      },
    } as unknown as FeatureExtractor;
    await expect(embedFiles(spy, paths, { onError: 'skip', signal })).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'embedFiles: aborted after 1 of 4 files.',
    });
    expect(calls).toBe(2);
    expect(maxAbsDiff(await fx.extract(paths[0]!), refOf(files[0]!))).toBeLessThanOrEqual(1e-4);
  });
});
