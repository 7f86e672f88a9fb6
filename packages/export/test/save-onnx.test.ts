import * as fsp from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exportOnnx, saveOnnx } from '../src/index.js';

// Wraps fs.promises.open so a test can make the write fail halfway (a full disk, a crash).
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, open: vi.fn(actual.open) };
});

useCpuBackend();

const mlp = () =>
  tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3, name: 'd' })] });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebmjs-export-'));
});
afterEach(async () => {
  vi.mocked(fsp.open).mockReset();
  await rm(dir, { recursive: true, force: true });
});

describe('saveOnnx', () => {
  it('writes the exported bytes, loadable by onnxruntime-node from the path, leaving no temp file', async () => {
    const model = mlp();
    const path = join(dir, 'model.onnx');
    const written = await saveOnnx(model, path, { recipe: 'simclr' });
    const bytes = await readFile(path);
    expect(written).toBe(bytes.byteLength);
    expect(bytes.equals(Buffer.from(await exportOnnx(model, { recipe: 'simclr' })))).toBe(true);
    const session = await ort.InferenceSession.create(path);
    expect(session.inputNames).toEqual(['input']);
    await session.release();
    expect(await readdir(dir)).toEqual(['model.onnx']);
  });

  it('an interrupted write leaves the previous model intact and no half-written file', async () => {
    const path = join(dir, 'model.onnx');
    await saveOnnx(mlp(), path);
    const before = await readFile(path);
    const actual = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises');
    vi.mocked(fsp.open).mockImplementationOnce(async (file, flags) => {
      const handle = await actual.open(file, flags);
      // Half the bytes reach the disk, then the device is full.
      return new Proxy(handle, {
        get(target, key) {
          if (key === 'writeFile') {
            return async (data: Uint8Array) => {
              await target.write(data.subarray(0, data.byteLength >> 1));
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
                code: 'ENOSPC',
              });
            };
          }
          const value = Reflect.get(target, key);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    });
    const bigger = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [64], units: 64 })] });
    await expect(saveOnnx(bigger, path)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/saveOnnx: cannot write ".*model\.onnx": ENOSPC/),
    });
    expect(vi.mocked(fsp.open)).toHaveBeenCalled();
    expect((await readFile(path)).equals(before)).toBe(true);
    expect(await readdir(dir)).toEqual(['model.onnx']);
  });

  it('a failed rename (the target is a directory) reports IO and cleans up', async () => {
    const path = join(dir, 'taken');
    await mkdir(path);
    await writeFile(join(path, 'keep.txt'), 'x');
    await expect(saveOnnx(mlp(), path)).rejects.toMatchObject({ code: 'IO' });
    expect((await readdir(dir)).sort()).toEqual(['taken']);
  });

  it('a missing directory reports IO with the path', async () => {
    const path = join(dir, 'missing', 'model.onnx');
    await expect(saveOnnx(mlp(), path)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringContaining(path),
    });
  });

  it('writes nothing when the export itself fails, and validates the path', async () => {
    const input = tfl.input({ shape: [4, 4, 2] });
    const model = tfl.model({
      inputs: input,
      outputs: tfl.layers.upSampling2d({}).apply(input) as tfl.SymbolicTensor,
    });
    await expect(saveOnnx(model, join(dir, 'x.onnx'))).rejects.toMatchObject({
      code: 'UNSUPPORTED',
    });
    await expect(saveOnnx(mlp(), '')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await readdir(dir)).toEqual([]);
  });
});
