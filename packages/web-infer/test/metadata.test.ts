import { readFile } from 'node:fs/promises';
import { METADATA_KEYS } from '@ebmjs/export';
import { describe, expect, it } from 'vitest';
import { type DeviceSupport, openOnDevice, sessionError } from '../src/devices.js';
import { EbmError, readModelInfo } from '../src/index.node.js';
import { EBMJS_METADATA_KEYS } from '../src/metadata.js';
import { convertChannels, resizeBilinear } from '../src/preprocess.js';
import { handMadeModel, modelPath } from './helpers.js';

describe('readModelInfo reads the ebm.js metadata', () => {
  it('knows the keys @ebmjs/export writes (a copy: this package does not import the exporter)', () => {
    expect(EBMJS_METADATA_KEYS).toBe(METADATA_KEYS);
  });

  it('NCHW RGB encoder with per-channel preprocessing', async () => {
    const info = readModelInfo(await readFile(modelPath('conv-rgb-nchw')));
    expect(info).toMatchObject({
      inputName: 'input',
      outputName: 'embedding',
      inputShape: [null, 3, 32, 32],
      layout: 'NCHW',
      image: { height: 32, width: 32, channels: 3 },
      fixedBatch: null,
      embeddingDim: 16,
      outputNormalized: false,
      ebmjs: true,
      modelName: 'conv_rgb',
    });
    expect(info.preprocessing.scale).toBeCloseTo(1 / 255, 12);
    expect(info.preprocessing.mean).toEqual([0.485, 0.456, 0.406]);
    expect(info.metadata['ebmjs.recipe']).toBe('simclr');
  });

  it('fixed batch, grayscale NHWC, model-side L2 normalization; free size; vectors', async () => {
    const gray = readModelInfo(await readFile(modelPath('conv-gray-fixed4')));
    expect(gray).toMatchObject({
      inputShape: [4, 28, 28, 1],
      layout: 'NHWC',
      image: { height: 28, width: 28, channels: 1 },
      fixedBatch: 4,
      outputNormalized: true,
      preprocessing: { mean: [0.1307], std: [0.3081] },
    });
    const free = readModelInfo(await readFile(modelPath('conv-free-size')));
    expect(free.image).toEqual({ height: null, width: null, channels: 3 });
    const mlp = readModelInfo(await readFile(modelPath('mlp')));
    expect(mlp).toMatchObject({
      layout: 'NC',
      image: null,
      inputShape: [null, 8],
      embeddingDim: 4,
    });
  });

  it('a plain ONNX model without metadata: layout guessed from the channel axis, or given', () => {
    expect(readModelInfo(handMadeModel([['x', 1, [1, 3, 8, 8]]])).layout).toBe('NCHW');
    expect(readModelInfo(handMadeModel([['x', 1, [1, 8, 8, 3]]])).layout).toBe('NHWC');
    const ambiguous = handMadeModel([['x', 1, [1, 3, 3, 3]]]);
    expect(readModelInfo(ambiguous)).toMatchObject({ layout: 'other', image: null, ebmjs: false });
    expect(readModelInfo(ambiguous, { layout: 'NHWC' }).image).toEqual({
      height: 3,
      width: 3,
      channels: 3,
    });
  });
});

describe('preprocessing arithmetic', () => {
  it('resizeBilinear: identity, constants, and the half-pixel-centre 2→4 upsample', () => {
    const src = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(resizeBilinear(src, 2, 2, 1, 2, 2))).toEqual([1, 2, 3, 4]);
    expect(Array.from(resizeBilinear(new Float32Array(12).fill(7), 2, 2, 3, 5, 3))).toEqual(
      new Array(45).fill(7),
    );
    // Row [0, 4] upsampled to 4: source x = 0.5·(i + 0.5) − 0.5 = −0.25, 0.25, 0.75, 1.25 (clamped).
    expect(Array.from(resizeBilinear(Float32Array.from([0, 4]), 1, 2, 1, 1, 4))).toEqual([
      0, 1, 3, 4,
    ]);
  });

  it('convertChannels: luma for grayscale, replication for gray → RGB, opaque alpha', () => {
    expect(convertChannels([255, 0, 0, 9], 1, 4, 1)[0]).toBeCloseTo(0.2989 * 255, 4);
    expect(Array.from(convertChannels([10, 200], 2, 1, 3))).toEqual([10, 10, 10, 200, 200, 200]);
    expect(Array.from(convertChannels([1, 2, 3], 1, 3, 4))).toEqual([1, 2, 3, 255]);
  });
});

describe("device selection: 'auto' falls back and reports why", () => {
  const fake = (fail: Record<string, EbmError>): DeviceSupport => ({
    platform: 'node',
    devices: ['cpu', 'cuda', 'wasm'],
    auto: ['cuda', 'cpu', 'wasm'],
    open: async (_bytes, device) => {
      const error = fail[device];
      if (error !== undefined) throw error;
      return { session: {} as never, Tensor: {} as never, device, runtime: 'onnxruntime-node' };
    },
  });
  const unavailable = (d: string) => new EbmError('BACKEND_UNAVAILABLE', `${d} is missing`);
  const settings = { threads: undefined, wasmPaths: undefined };

  it('skips providers that fail to start, in order, and records each failure', async () => {
    const opened = await openOnDevice(
      fake({ cuda: unavailable('cuda'), cpu: unavailable('cpu') }),
      new Uint8Array(),
      'auto',
      settings,
    );
    expect(opened.device).toBe('wasm');
    expect(opened.fallbacks).toEqual([
      { device: 'cuda', reason: 'cuda is missing' },
      { device: 'cpu', reason: 'cpu is missing' },
    ]);
  });

  it('does not fall back for an explicit device, nor past a model the runtime rejects', async () => {
    await expect(
      openOnDevice(fake({ cuda: unavailable('cuda') }), new Uint8Array(), 'cuda', settings),
    ).rejects.toThrow('cuda is missing');
    const corrupt = new EbmError('CORRUPT_FILE', 'bad model');
    await expect(
      openOnDevice(
        fake({ cuda: unavailable('cuda'), cpu: corrupt }),
        new Uint8Array(),
        'auto',
        settings,
      ),
    ).rejects.toBe(corrupt);
    await expect(
      openOnDevice(
        fake({ cuda: unavailable('cuda'), cpu: unavailable('cpu'), wasm: unavailable('wasm') }),
        new Uint8Array(),
        'auto',
        settings,
      ),
    ).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringMatching(/tried cuda: .*cpu: .*wasm/),
    });
    await expect(
      openOnDevice(fake({}), new Uint8Array(), 'webgpu', settings),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('classifies session failures: missing runtime files vs a model the runtime rejects', () => {
    const missing = sessionError(
      'wasm',
      new Error(
        'no available backend found. ERR: [wasm] TypeError: Failed to fetch dynamically imported module: /x/ort-wasm-simd-threaded.mjs',
      ),
      true,
    );
    expect(missing.code).toBe('BACKEND_UNAVAILABLE');
    expect(missing.message).toMatch(/wasmPaths/);
    expect(
      sessionError('cpu', new Error('Failed to load model because protobuf parsing failed.'), true)
        .code,
    ).toBe('CORRUPT_FILE');
    expect(
      sessionError('cpu', new Error('Could not find an implementation for Foo(1) node'), true).code,
    ).toBe('UNSUPPORTED');
    expect(sessionError('cuda', new Error('anything'), false).code).toBe('BACKEND_UNAVAILABLE');
  });
});
