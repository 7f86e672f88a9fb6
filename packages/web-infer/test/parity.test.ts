import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../src/index.node.js';
import {
  fixture,
  IMAGE_MODELS,
  imagePaths,
  l2,
  modelPath,
  reference,
  worstDiff,
} from './helpers.js';

const worst: Record<string, number> = {};
const note = (key: string, value: number) => {
  worst[key] = Math.max(worst[key] ?? 0, value);
};
afterAll(() => {
  console.log(`parity (max |diff|): ${JSON.stringify(worst, null, 1)}`);
});

describe('onnxruntime-node (cpu) against the tfjs reference embeddings', () => {
  for (const name of IMAGE_MODELS) {
    it(`${name}: every fixture image (including resized ones) within 1e-4, raw and L2-normalized`, async () => {
      const raw = await FeatureExtractor.create(modelPath(name), {
        device: 'cpu',
        threads: 1,
        normalize: false,
      });
      const unit = await FeatureExtractor.create(modelPath(name), { device: 'cpu', threads: 1 });
      try {
        expect(raw.device).toBe('cpu');
        expect(raw.runtime).toBe('onnxruntime-node');
        const refs = reference.images.map((i) => reference.embeddings[name]![i.file]!);
        const gotRaw = await raw.extract(imagePaths());
        const gotUnit = await unit.extract(imagePaths());
        const dRaw = worstDiff(gotRaw, refs);
        const dUnit = worstDiff(gotUnit, refs.map(l2));
        note(`${name} cpu vs tfjs (raw)`, dRaw);
        note(`${name} cpu vs tfjs (l2)`, dUnit);
        expect(dRaw).toBeLessThanOrEqual(1e-4);
        expect(dUnit).toBeLessThanOrEqual(1e-4);
        for (const e of gotUnit) expect(Math.hypot(...e)).toBeCloseTo(1, 5);
      } finally {
        await raw.dispose();
        await unit.dispose();
      }
    });
  }

  it('mlp: raw Float32Array vectors (rank-2 NC input)', async () => {
    const fx = await FeatureExtractor.create(modelPath('mlp'), {
      device: 'cpu',
      threads: 1,
      normalize: false,
    });
    const inputs = reference.models['mlp']!.inputs!.map((v) => Float32Array.from(v));
    const refs = inputs.map((_, i) => reference.embeddings['mlp']![String(i)]!);
    const d = worstDiff(await fx.extract(inputs), refs);
    note('mlp cpu vs tfjs', d);
    expect(d).toBeLessThanOrEqual(1e-4);
    await fx.dispose();
  });
});

describe('onnxruntime-web (wasm) in Node equals onnxruntime-node', () => {
  for (const name of [...IMAGE_MODELS, 'mlp'] as const) {
    it(`${name}`, async () => {
      const cpu = await FeatureExtractor.create(modelPath(name), { device: 'cpu', threads: 1 });
      const wasm = await FeatureExtractor.create(modelPath(name), { device: 'wasm', threads: 1 });
      try {
        expect(wasm.device).toBe('wasm');
        expect(wasm.runtime).toBe('onnxruntime-web');
        const inputs =
          name === 'mlp'
            ? reference.models['mlp']!.inputs!.map((v) => Float32Array.from(v))
            : imagePaths();
        const a = await cpu.extract(inputs);
        const b = await wasm.extract(inputs);
        const d = worstDiff(a, b);
        note(`${name} wasm vs cpu (l2)`, d);
        expect(d).toBeLessThanOrEqual(1e-5);
        if (name !== 'mlp') {
          const refs = reference.images.map((i) => l2(reference.embeddings[name]![i.file]!));
          const dRef = worstDiff(b, refs);
          note(`${name} wasm vs tfjs (l2)`, dRef);
          expect(dRef).toBeLessThanOrEqual(1e-4);
        }
      } finally {
        await cpu.dispose();
        await wasm.dispose();
      }
    });
  }
});

describe('every Node input form gives the same embedding', () => {
  let fx: FeatureExtractor;
  beforeAll(async () => {
    fx = await FeatureExtractor.create(await readFile(modelPath('conv-rgb-nchw')), {
      device: 'cpu',
      threads: 1,
    });
  });
  afterAll(() => fx.dispose());

  it('path, file: URL, Buffer, ArrayBuffer, Blob, decoded pixels, raw values and an ORT tensor', async () => {
    const file = 'query/square-48x40.png';
    const path = fixture(file);
    const expected = l2(reference.embeddings['conv-rgb-nchw']![file]!);
    const buffer = await readFile(path);
    const { data, info } = await sharp(path)
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const rgba = { data, width: info.width, height: info.height }; // ImageData-like, RGBA
    const forms: [string, unknown][] = [
      ['path', path],
      ['file URL', pathToFileURL(path)],
      ['Buffer', buffer],
      ['Uint8Array', new Uint8Array(buffer)],
      ['ArrayBuffer', buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length)],
      ['Blob', new Blob([buffer], { type: 'image/png' })],
      ['RGBA pixels', rgba],
    ];
    for (const [what, input] of forms) {
      const e = await fx.extract(input as string);
      expect(worstDiff([e], [expected]), what).toBeLessThanOrEqual(1e-4);
    }
    // The 32×32 gallery image as raw NCHW values on the pixel scale (preprocessing applies).
    const g = 'gallery/ring-1.png';
    const px = await sharp(fixture(g)).raw().toBuffer();
    const nchw = new Float32Array(3 * 32 * 32);
    for (let p = 0; p < 32 * 32; p++)
      for (let c = 0; c < 3; c++) nchw[c * 1024 + p] = px[p * 3 + c]!;
    const gRef = l2(reference.embeddings['conv-rgb-nchw']![g]!);
    expect(worstDiff([await fx.extract(nchw)], [gRef])).toBeLessThanOrEqual(1e-4);
    // A model-ready ORT tensor: preprocessing is the caller's, so apply it here.
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const ready = nchw.map(
      (v, i) => (v / 255 - mean[Math.floor(i / 1024)]!) / std[Math.floor(i / 1024)]!,
    );
    const both = new Float32Array(2 * ready.length);
    both.set(ready);
    both.set(ready, ready.length);
    const rows = await fx.extract(new ort.Tensor('float32', both, [2, 3, 32, 32]));
    expect(rows).toHaveLength(2);
    expect(worstDiff(rows, [gRef, gRef])).toBeLessThanOrEqual(1e-4);
    expect(
      worstDiff(
        [await fx.extract({ data: ready, dims: [1, 3, 32, 32] }).then((r) => r[0]!)],
        [gRef],
      ),
    ).toBeLessThanOrEqual(1e-4);
  });

  it('energy is −cos of the two embeddings: lowest for an image with itself', async () => {
    const a = fixture('gallery/circle-0.png');
    const b = fixture('gallery/circle-1.png');
    const c = fixture('gallery/stripes-0.png');
    expect(await fx.energy(a, a)).toBeCloseTo(-1, 5);
    const ab = await fx.energy(a, b);
    const ac = await fx.energy(a, c);
    const [ea, eb] = await fx.extract([a, b]);
    let dot = 0;
    for (let i = 0; i < ea!.length; i++) dot += ea![i]! * eb![i]!;
    expect(ab).toBeCloseTo(-dot, 5);
    expect(ab).toBeLessThan(ac);
    expect(await fx.energy(a, b, 0.1)).toBeCloseTo(ab / 0.1, 4);
  });
});

/**
 * Whether onnxruntime-node's CUDA provider library is installed, looked up here on its own (its
 * install script downloads it; these machines install with scripts skipped, so it is absent).
 */
const CUDA_PROVIDER = 'libonnxruntime_providers_cuda.so';
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
const cudaProviderInstalled = (() => {
  if (!linuxX64) return false;
  const main = createRequire(import.meta.url).resolve('onnxruntime-node');
  const bin = join(dirname(main), '..', 'bin', 'napi-v6', 'linux', 'x64');
  if (!existsSync(join(bin, 'onnxruntime_binding.node'))) {
    throw new Error(`onnxruntime-node's Linux x64 binding is not where this test looks (${bin}).`);
  }
  return existsSync(join(bin, CUDA_PROVIDER));
})();
// Linux x64 without the provider (these machines): the outcome is known, so assert it.
const noCuda = linuxX64 && !cudaProviderInstalled;

describe("device selection in Node: 'auto' prefers cuda, falls back to cpu and reports it", () => {
  it.runIf(noCuda)(
    'auto, without the CUDA provider: runs on cpu and says why cuda did not start',
    async () => {
      const fx = await FeatureExtractor.create(modelPath('mlp'), { threads: 1 });
      try {
        expect(fx.device).toBe('cpu');
        expect(fx.fallbacks).toEqual([
          { device: 'cuda', reason: expect.stringContaining(CUDA_PROVIDER) },
        ]);
        expect((await fx.extract(new Float32Array(8))).length).toBe(4);
      } finally {
        await fx.dispose();
      }
    },
  );

  it.runIf(noCuda)(
    "an explicit 'cuda' without the CUDA provider fails with BACKEND_UNAVAILABLE naming it (no silent fallback)",
    async () => {
      let caught: unknown;
      try {
        const fx = await FeatureExtractor.create(modelPath('mlp'), { device: 'cuda' });
        await fx.dispose();
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ name: 'EbmError', code: 'BACKEND_UNAVAILABLE' });
      expect((caught as Error).message).toMatch(
        /mlp\.onnx: device "cuda" failed to start: libonnxruntime_providers_cuda\.so is not installed/,
      );
    },
  );
});
