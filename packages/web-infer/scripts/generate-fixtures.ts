/**
 * Writes the committed test fixtures: small encoders exported by @ebmjs/export, synthetic
 * shape images (PNG) and the embeddings tfjs computes for them. The tests compare
 * @ebmjs/web-infer against these references without depending on tfjs or the exporter.
 *
 * Run with `node packages/web-infer/scripts/generate-fixtures.mjs` (the .mjs loads this file
 * through Vite so the workspace packages resolve to their TypeScript sources).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportOnnx } from '@ebmjs/export';
import { convEncoder, mlpEncoder } from '@ebmjs/models';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import sharp from 'sharp';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded weights that keep activations O(1); BN statistics away from the identity. */
function randomizeWeights(model: LayersModel, seed: number): void {
  const next = rng(seed);
  const u = (n: number, lo: number, hi: number) =>
    Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const name = w.originalName;
      if (name.endsWith('moving_variance')) return tf.tensor(u(n, 0.5, 1.5), shape);
      if (name.endsWith('gamma')) return tf.tensor(u(n, 0.6, 1.4), shape);
      if (name.endsWith('moving_mean') || name.endsWith('beta') || name.endsWith('bias'))
        return tf.tensor(u(n, -0.2, 0.2), shape);
      const fanIn = shape.length <= 1 ? 1 : n / shape[shape.length - 1]!;
      const a = Math.sqrt(3 / fanIn);
      return tf.tensor(u(n, -a, a), shape);
    });
    if (values.length > 0) layer.setWeights(values);
    tf.dispose(values);
  }
}

// ---- synthetic images: 8 shape classes, each with its own colour family ----

type Shape = (x: number, y: number) => boolean;
const CLASSES: Record<string, { rgb: [number, number, number]; shape: Shape }> = {
  circle: { rgb: [220, 50, 40], shape: (x, y) => x * x + y * y < 0.55 },
  square: { rgb: [40, 90, 220], shape: (x, y) => Math.abs(x) < 0.62 && Math.abs(y) < 0.62 },
  triangle: { rgb: [40, 190, 70], shape: (x, y) => y < 0.6 && y > -0.7 + 2.2 * Math.abs(x) - 0.1 },
  cross: { rgb: [230, 210, 40], shape: (x, y) => Math.abs(x) < 0.2 || Math.abs(y) < 0.2 },
  ring: {
    rgb: [200, 60, 200],
    shape: (x, y) => x * x + y * y < 0.64 && x * x + y * y > 0.25,
  },
  stripes: { rgb: [40, 200, 210], shape: (_x, y) => Math.floor((y + 1) * 4) % 2 === 0 },
  diamond: { rgb: [240, 140, 30], shape: (x, y) => Math.abs(x) + Math.abs(y) < 0.75 },
  dots: {
    rgb: [235, 235, 235],
    shape: (x, y) => {
      const fx = (((x + 1) * 3) % 1) - 0.5;
      const fy = (((y + 1) * 3) % 1) - 0.5;
      return fx * fx + fy * fy < 0.09;
    },
  },
};

function drawImage(cls: string, width: number, height: number, seed: number): Uint8Array {
  const { rgb, shape } = CLASSES[cls]!;
  const r = rng(seed);
  const cx = (r() - 0.5) * 0.3;
  const cy = (r() - 0.5) * 0.3;
  const s = 0.8 + r() * 0.35;
  const tint = rgb.map((c) => Math.max(0, Math.min(255, c + (r() - 0.5) * 50)));
  const bg = [20 + r() * 40, 20 + r() * 40, 30 + r() * 40];
  const px = new Uint8Array(width * height * 3);
  const side = Math.min(width, height);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      // 2×2 supersampling for soft edges.
      let cover = 0;
      for (const [dx, dy] of [
        [0.25, 0.25],
        [0.75, 0.25],
        [0.25, 0.75],
        [0.75, 0.75],
      ] as const) {
        const x = ((i + dx - width / 2) / (side / 2) - cx) / s;
        const y = ((j + dy - height / 2) / (side / 2) - cy) / s;
        if (shape(x, y)) cover += 0.25;
      }
      const noise = (r() - 0.5) * 12;
      for (let c = 0; c < 3; c++) {
        const v = bg[c]! * (1 - cover) + tint[c]! * cover + noise;
        px[(j * width + i) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return px;
}

interface ImageFixture {
  file: string;
  cls: string;
  width: number;
  height: number;
}

async function writeImages(): Promise<ImageFixture[]> {
  const images: ImageFixture[] = [];
  let seed = 100;
  for (const cls of Object.keys(CLASSES)) {
    for (let k = 0; k < 4; k++)
      images.push({ file: `gallery/${cls}-${k}.png`, cls, width: 32, height: 32 });
  }
  images.push({ file: 'query/circle.png', cls: 'circle', width: 32, height: 32 });
  images.push({ file: 'query/square-48x40.png', cls: 'square', width: 48, height: 40 });
  images.push({ file: 'query/triangle-20x20.png', cls: 'triangle', width: 20, height: 20 });
  images.push({ file: 'query/ring.png', cls: 'ring', width: 32, height: 32 });
  for (const img of images) {
    const px = drawImage(img.cls, img.width, img.height, seed++);
    const path = join(OUT, img.file);
    mkdirSync(dirname(path), { recursive: true });
    const png = await sharp(px, { raw: { width: img.width, height: img.height, channels: 3 } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    writeFileSync(path, png);
  }
  return images;
}

/** Pixels exactly as a decoder returns them from the PNG file. */
async function decode(file: string): Promise<tf.Tensor3D> {
  const { data, info } = await sharp(join(OUT, file)).raw().toBuffer({ resolveWithObject: true });
  return tf.tensor3d(Float32Array.from(data), [info.height, info.width, info.channels]);
}

interface Pre {
  scale: number;
  mean: number | number[];
  std: number | number[];
}

/** The reference pipeline: channels -> bilinear resize (half-pixel centres) -> scale/mean/std. */
function preprocess(img: tf.Tensor3D, channels: number, size: [number, number] | null, pre: Pre) {
  return tf.tidy(() => {
    let x: tf.Tensor3D = img;
    if (channels === 1) x = tf.image.rgbToGrayscale(x);
    if (size !== null && (x.shape[0] !== size[0] || x.shape[1] !== size[1]))
      x = tf.image.resizeBilinear(x, size, false, true);
    return x.mul(pre.scale).sub(pre.mean).div(pre.std).expandDims(0) as tf.Tensor4D;
  });
}

async function main() {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  await tf.setBackend('cpu');
  const images = await writeImages();
  const models: Record<string, unknown> = {};
  const embeddings: Record<string, Record<string, number[]>> = {};
  const round = (a: Float32Array | Int32Array | Uint8Array) =>
    Array.from(a, (v) => Number(v.toPrecision(9)));

  const imageModels: {
    name: string;
    model: LayersModel;
    channels: number;
    size: [number, number] | null;
    options: Parameters<typeof exportOnnx>[1] & { preprocessing: Pre };
  }[] = [];

  const rgb = convEncoder({
    inputShape: [32, 32, 3],
    channels: [8, 16, 16],
    embeddingDim: 16,
    seed: 11,
    name: 'conv_rgb',
  });
  randomizeWeights(rgb.model, 11);
  imageModels.push({
    name: 'conv-rgb-nchw',
    model: rgb.model,
    channels: 3,
    size: [32, 32],
    options: {
      layout: 'NCHW',
      recipe: 'simclr',
      preprocessing: { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    },
  });

  const gray = convEncoder({
    inputShape: [28, 28, 1],
    channels: [8, 8],
    l2Normalize: true,
    seed: 12,
    name: 'conv_gray',
  });
  randomizeWeights(gray.model, 12);
  imageModels.push({
    name: 'conv-gray-fixed4',
    model: gray.model,
    channels: 1,
    size: [28, 28],
    options: {
      layout: 'NHWC',
      dynamicBatch: false,
      batchSize: 4,
      preprocessing: { scale: 1 / 255, mean: 0.1307, std: 0.3081 },
    },
  });

  const free = convEncoder({
    inputShape: [null, null, 3],
    channels: [4, 8],
    l2Normalize: true,
    seed: 13,
    name: 'conv_free',
  });
  randomizeWeights(free.model, 13);
  imageModels.push({
    name: 'conv-free-size',
    model: free.model,
    channels: 3,
    size: null,
    options: { layout: 'NHWC', preprocessing: { scale: 1 / 255, mean: 0.5, std: 0.25 } },
  });

  for (const m of imageModels) {
    const bytes = await exportOnnx(m.model, m.options);
    writeFileSync(join(OUT, `${m.name}.onnx`), bytes);
    models[m.name] = { file: `${m.name}.onnx`, ...m.options, size: m.size, channels: m.channels };
    const table: Record<string, number[]> = {};
    for (const img of images) {
      const px = await decode(img.file);
      const x = preprocess(px, m.channels, m.size, m.options.preprocessing);
      const y = m.model.predict(x) as tf.Tensor;
      table[img.file] = round(await y.data());
      tf.dispose([px, x, y]);
    }
    embeddings[m.name] = table;
  }

  const mlp = mlpEncoder({
    inputShape: 8,
    hiddenUnits: [16],
    embeddingDim: 4,
    seed: 14,
    name: 'mlp',
  });
  randomizeWeights(mlp.model, 14);
  writeFileSync(join(OUT, 'mlp.onnx'), await exportOnnx(mlp.model));
  const next = rng(15);
  const vectors = Array.from({ length: 6 }, () =>
    Array.from({ length: 8 }, () => Number((next() * 2 - 1).toFixed(4))),
  );
  const out = tf.tidy(
    () => (mlp.model.predict(tf.tensor2d(vectors)) as tf.Tensor).arraySync() as number[][],
  );
  models['mlp'] = { file: 'mlp.onnx', inputs: vectors };
  embeddings['mlp'] = Object.fromEntries(
    out.map((row, i) => [String(i), round(Float32Array.from(row))]),
  );

  const reference = {
    note: 'Generated by scripts/generate-fixtures.ts: tfjs (cpu backend) outputs, before any L2 normalization by web-infer.',
    images: images.map(({ file, cls, width, height }) => ({ file, cls, width, height })),
    models,
    embeddings,
  };
  writeFileSync(join(OUT, 'reference.json'), `${JSON.stringify(reference)}\n`);
  // The example page's default gallery (examples/web-infer serves this folder).
  const gallery = {
    images: images.filter((i) => i.file.startsWith('gallery/')).map((i) => i.file),
  };
  writeFileSync(join(OUT, 'gallery.json'), `${JSON.stringify(gallery, null, 2)}\n`);
  console.log(`wrote ${images.length} images and ${imageModels.length + 1} models to ${OUT}`);
}

await main();
