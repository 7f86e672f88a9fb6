import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError, isEbmError } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  convEncoder,
  DenoisingAutoencoder,
  L2Normalize,
  loadEncoder,
  loadModel,
  MemoryBank,
  MomentumEncoder,
  memoryStorage,
  mlpEncoder,
  NegativeQueue,
  PirlHeads,
  pirlHeads,
  projectionHead,
  RBM,
  resnet18,
  SAVE_FORMAT_VERSION,
  type Storage,
  saveModel,
} from '../src/index.js';

useCpuBackend();

let root: string;
let counter = 0;
const freshDir = () => join(root, `save-${counter++}`);
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ebmjs-models-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());
const predict = (m: tfl.LayersModel, x: tf.Tensor | tf.Tensor[]) => {
  const y = m.predict(x) as tf.Tensor | tf.Tensor[];
  const out = (Array.isArray(y) ? y : [y]).map(values);
  tf.dispose(y);
  return out;
};
const manifestOf = async (dir: string) =>
  JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));

async function expectCorrupt(load: () => Promise<unknown>, pattern?: RegExp): Promise<EbmError> {
  let caught: unknown;
  try {
    await load();
  } catch (error) {
    caught = error;
  }
  expect(isEbmError(caught, 'CORRUPT_FILE'), `expected CORRUPT_FILE, got ${String(caught)}`).toBe(
    true,
  );
  if (pattern) expect((caught as Error).message).toMatch(pattern);
  return caught as EbmError;
}

describe('save → load gives identical outputs', () => {
  it('encoders and heads, custom layer included', async () => {
    const enc = convEncoder({
      inputShape: [8, 8, 1],
      channels: [2, 3],
      embeddingDim: 4,
      l2Normalize: true,
      seed: 2,
    });
    const dir = freshDir();
    await saveModel(enc, dir);
    const manifest = await manifestOf(dir);
    expect(manifest).toMatchObject({
      format: 'ebmjs-models',
      formatVersion: SAVE_FORMAT_VERSION,
      kind: 'layers-model',
    });
    expect(Object.keys(manifest.files).sort()).toEqual(['model-topology', 'model-weights']);
    // the custom layer is stored under its stable class name, for loaders and the ONNX exporter
    const topology = await readFile(join(dir, manifest.files['model-topology'].path), 'utf8');
    expect(topology).toContain('"class_name":"L2Normalize"');
    const loaded = await loadEncoder(dir);
    expect(loaded.embeddingDim).toBe(4);
    expect(loaded.model.inputNames).toEqual(['image']);
    expect(loaded.model.outputNames).toEqual(['embedding']);
    expect(loaded.model.layers.some((l) => l instanceof L2Normalize)).toBe(true);
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1);
    expect(predict(loaded.model, x)).toEqual(predict(enc.model, x));

    const head = projectionHead({ inputDim: 4, outputDim: 3, seed: 1 });
    const headDir = freshDir();
    await saveModel(head.model, headDir);
    const z = tf.randomNormal([3, 4], 0, 1, 'float32', 2);
    expect(predict(await loadModel(headDir), z)).toEqual(predict(head.model, z));
  });

  it('resnet18 (tiny width)', async () => {
    const enc = resnet18({ inputShape: [8, 8, 3], width: 2, seed: 4 });
    const dir = freshDir();
    await saveModel(enc.model, dir);
    const loaded = await loadModel(dir);
    const x = tf.randomUniform([1, 8, 8, 3], 0, 1, 'float32', 3);
    expect(predict(loaded, x)).toEqual(predict(enc.model, x));
  });

  it('PIRL heads keep the encoder shared after loading', async () => {
    const encoder = convEncoder({ inputShape: [null, null, 1], channels: [2], seed: 1 });
    const heads = pirlHeads({
      encoder,
      imageShape: [6, 6, 1],
      patchShape: [3, 3, 1],
      projectionDim: 4,
    });
    const dir = freshDir();
    await heads.save(dir);
    const loaded = await PirlHeads.load(dir);
    const images = tf.randomUniform([2, 6, 6, 1], 0, 1, 'float32', 5);
    const patches = tf.randomUniform([2, 9, 3, 3, 1], 0, 1, 'float32', 6);
    expect(values(loaded.applyF(images))).toEqual(values(heads.applyF(images)));
    expect(values(loaded.applyG(patches))).toEqual(values(heads.applyG(patches)));
    const shared = new Set(loaded.encoder.weights.map((w) => w.read()));
    expect(loaded.f.weights.filter((w) => shared.has(w.read()))).toHaveLength(
      loaded.encoder.weights.length,
    );
    expect(loaded.g.weights.filter((w) => shared.has(w.read()))).toHaveLength(
      loaded.encoder.weights.length,
    );
  });

  it('NegativeQueue: keys, pointer and count', async () => {
    const q = new NegativeQueue({ size: 5, dim: 3, seed: 1 });
    q.enqueue(tf.randomNormal([7, 3], 0, 1, 'float32', 2));
    const dir = freshDir();
    await q.save(dir);
    const r = await NegativeQueue.load(dir);
    expect([r.size, r.dim, r.pointer, r.count]).toEqual([5, 3, 2, 5]);
    expect(values(r.keys())).toEqual(values(q.keys()));
    const next = tf.randomNormal([2, 3], 0, 1, 'float32', 3);
    q.enqueue(next);
    r.enqueue(next);
    expect(values(r.keys())).toEqual(values(q.keys()));
  });

  it('MemoryBank: vectors and the negative-sampling stream', async () => {
    const bank = new MemoryBank({ size: 9, dim: 3, momentum: 0.25, seed: 7 });
    bank.update([1, 4], tf.randomNormal([2, 3], 0, 1, 'float32', 1));
    tf.dispose(bank.negatives([0], 3).negatives);
    const dir = freshDir();
    await bank.save(dir);
    const r = await MemoryBank.load(dir);
    expect(r.momentum).toBe(0.25);
    expect(values(r.bank())).toEqual(values(bank.bank()));
    expect(Array.from(r.negatives([2, 3], 10).indices)).toEqual(
      Array.from(bank.negatives([2, 3], 10).indices),
    );
  });

  it('MomentumEncoder: targets, step and schedule', async () => {
    const build = () =>
      mlpEncoder({ inputShape: 3, hiddenUnits: [4], embeddingDim: 2, batchNorm: true, seed: 3 });
    const online = build();
    const me = new MomentumEncoder(online, { momentum: 0.9, schedule: 'cosine', totalSteps: 10 });
    tf.tidy(() => online.model.weights.forEach((w) => w.write(tf.add(w.read(), 0.5))));
    me.update();
    me.update();
    const dir = freshDir();
    await me.save(dir);
    const r = await MomentumEncoder.load(dir, online);
    expect([r.step, r.schedule, r.totalSteps, r.baseMomentum]).toEqual([2, 'cosine', 10, 0.9]);
    const x = tf.randomNormal([2, 3], 0, 1, 'float32', 4);
    expect(values(r.apply(x))).toEqual(values(me.apply(x)));
    expect(me.update()).toBe(r.update());
    expect(values(r.apply(x))).toEqual(values(me.apply(x)));
    // a different architecture is a mismatched save, not a crash
    const other = mlpEncoder({ inputShape: 3, hiddenUnits: [5], embeddingDim: 2, seed: 3 });
    await expectCorrupt(() => MomentumEncoder.load(dir, other), /does not match/);
    await expectCorrupt(() => MomentumEncoder.load(dir, [online, other]), /2 online models/);
  });

  it('RBM: parameters and sampling stream', async () => {
    const rbm = new RBM({ numVisible: 5, numHidden: 3, initStd: 0.5, seed: 2 });
    const dir = freshDir();
    await rbm.save(dir);
    const r = await RBM.load(dir);
    const v = tf.tensor2d([
      [1, 0, 1, 1, 0],
      [0, 1, 0, 0, 1],
    ]);
    expect(values(r.freeEnergy(v))).toEqual(values(rbm.freeEnergy(v)));
    expect(values(r.sample(v, 3).v)).toEqual(values(rbm.sample(v, 3).v));
  });

  it('DenoisingAutoencoder: models, noise and stream', async () => {
    const dae = DenoisingAutoencoder.mlp({
      inputDim: 4,
      latentDim: 2,
      noise: { type: 'mask', rate: 0.2 },
      seed: 8,
    });
    const storage = memoryStorage('mem://dae');
    await dae.save(storage);
    const r = await DenoisingAutoencoder.load(storage);
    expect(r.noise).toEqual({ type: 'mask', rate: 0.2 });
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 9);
    expect(values(r.energy(x))).toEqual(values(dae.energy(x)));
    expect(values(r.loss(x))).toEqual(values(dae.loss(x)));
  });
});

describe('damaged saves give EbmError, never a crash', () => {
  let dir: string;
  let model: tfl.LayersModel;
  beforeAll(async () => {
    model = mlpEncoder({ inputShape: 4, hiddenUnits: [3], embeddingDim: 2 }).model;
  });
  const fresh = async () => {
    dir = freshDir();
    await saveModel(model, dir);
    const manifest = await manifestOf(dir);
    return {
      manifest,
      weights: join(dir, manifest.files['model-weights'].path as string),
      topology: join(dir, manifest.files['model-topology'].path as string),
    };
  };

  it('a truncated weights file', async () => {
    const { weights } = await fresh();
    const size = (await readFile(weights)).byteLength;
    for (const length of [0, 1, Math.floor(size / 2), size - 1]) {
      await truncate(weights, length);
      await expectCorrupt(() => loadModel(dir), /truncated/);
    }
  });

  it('a truncated or corrupt manifest, topology or weights', async () => {
    const { topology, weights } = await fresh();
    const original = await readFile(join(dir, 'manifest.json'));
    for (const length of [0, 10, original.byteLength - 2]) {
      await writeFile(join(dir, 'manifest.json'), original.subarray(0, length));
      await expectCorrupt(() => loadModel(dir));
    }
    await writeFile(join(dir, 'manifest.json'), original);
    const bytes = await readFile(weights);
    bytes[5] = bytes[5]! ^ 0xff;
    await writeFile(weights, bytes);
    await expectCorrupt(() => loadModel(dir), /checksum/);
    const second = await fresh();
    expect(second.topology).not.toBe(topology);
    await truncate(second.topology, 20);
    await expectCorrupt(() => loadModel(dir));
  });

  it('a consistent manifest over bytes tfjs cannot use', async () => {
    const { manifest, topology } = await fresh();
    // rewrite the topology and fix up the manifest so only tfjs can notice
    const { crc32Hex } = await import('@ebmjs/contract');
    const bogus = new TextEncoder().encode(
      JSON.stringify({ modelTopology: { nonsense: true }, weightSpecs: [] }),
    );
    const path = `model-topology.${crc32Hex(bogus)}.bin`;
    await writeFile(join(dir, path), bogus);
    await rm(topology);
    manifest.files['model-topology'] = { path, bytes: bogus.byteLength, crc32: crc32Hex(bogus) };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await expectCorrupt(() => loadModel(dir), /could not rebuild/);
  });

  it('a missing file, an unknown version, the wrong kind, or inconsistent state', async () => {
    const { manifest, weights } = await fresh();
    await rm(weights);
    await expectCorrupt(() => loadModel(dir), /missing/);
    await fresh();
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, formatVersion: 99 }));
    await expectCorrupt(() => loadModel(dir), /version 99/);
    const q = new NegativeQueue({ size: 4, dim: 2 });
    const qdir = freshDir();
    await q.save(qdir);
    await expectCorrupt(() => RBM.load(qdir), /negative-queue save, expected a rbm save/);
    await expectCorrupt(() => loadModel(qdir));
    const qm = await manifestOf(qdir);
    qm.meta.state.size = 5; // tensor is [4, 2]
    await writeFile(join(qdir, 'manifest.json'), JSON.stringify(qm));
    await expectCorrupt(() => NegativeQueue.load(qdir), /shape/);
    qm.meta.state.pointer = 'x';
    await writeFile(join(qdir, 'manifest.json'), JSON.stringify(qm));
    await expectCorrupt(() => NegativeQueue.load(qdir), /state.pointer/);
  });

  it('a directory without a manifest is CORRUPT_FILE; a missing directory is IO', async () => {
    const { weights } = await fresh();
    await rm(join(dir, 'manifest.json'));
    await expectCorrupt(() => loadModel(dir), /no manifest/);
    expect(weights).toBeTruthy();
    await expect(loadModel(join(root, 'does-not-exist'))).rejects.toMatchObject({ code: 'IO' });
    await expect(saveModel(model, '')).rejects.toBeInstanceOf(EbmError);
    await expect(loadModel({} as Storage)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('atomic saves', () => {
  it('replaces a save in place and leaves no stale or temporary files', async () => {
    const dir = freshDir();
    const a = mlpEncoder({ inputShape: 3, hiddenUnits: [], embeddingDim: 2, seed: 1 }).model;
    const b = mlpEncoder({ inputShape: 3, hiddenUnits: [], embeddingDim: 2, seed: 2 }).model;
    await saveModel(a, dir);
    await saveModel(b, dir);
    const files = await readdir(dir);
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(files.sort()).toEqual(
      [
        'manifest.json',
        ...Object.values((await manifestOf(dir)).files).map((f) => (f as { path: string }).path),
      ].sort(),
    );
    const x = tf.ones([1, 3]);
    expect(predict(await loadModel(dir), x)).toEqual(predict(b, x));
  });

  it('an interrupted save leaves the previous one loadable', async () => {
    const storage = memoryStorage();
    const a = mlpEncoder({ inputShape: 3, hiddenUnits: [], embeddingDim: 2, seed: 1 }).model;
    const b = mlpEncoder({ inputShape: 3, hiddenUnits: [], embeddingDim: 2, seed: 2 }).model;
    await saveModel(a, storage);
    // the process "dies" when it comes to write the new manifest
    const failing: Storage = {
      ...storage,
      write: async (name, data) => {
        if (name === 'manifest.json') throw new EbmError('IO', 'disk full');
        await storage.write(name, data);
      },
    };
    await expect(saveModel(b, failing)).rejects.toMatchObject({ code: 'IO' });
    const x = tf.ones([1, 3]);
    expect(predict(await loadModel(storage), x)).toEqual(predict(a, x));
    expect(predict(await loadModel(storage), x)).not.toEqual(predict(b, x));
  });
});

describe('lifecycle', () => {
  it('building and disposing the stateful parts returns numTensors to where it was', async () => {
    const enc = mlpEncoder({ inputShape: 3, hiddenUnits: [4], embeddingDim: 2, batchNorm: true });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      new RBM({ numVisible: 4, numHidden: 3 }).dispose();
      new NegativeQueue({ size: 6, dim: 2 }).dispose();
      new MemoryBank({ size: 6, dim: 2 }).dispose();
      new MomentumEncoder(enc).dispose();
      DenoisingAutoencoder.mlp({ inputDim: 3, latentDim: 2 }).dispose();
      const storage = memoryStorage();
      const rbm = new RBM({ numVisible: 2, numHidden: 2 });
      await rbm.save(storage);
      rbm.dispose();
      (await RBM.load(storage)).dispose();
      expect(tf.memory().numTensors, `after round ${i + 1}`).toBe(before);
    }
  });
});
