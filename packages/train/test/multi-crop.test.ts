import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EbmError } from '@ebmjs/contract';
import { Rng } from '@ebmjs/core';
import { barlowTwins, negativeCosine, ntXent, vicReg } from '@ebmjs/losses';
import {
  convEncoder,
  type Encoder,
  type Head,
  mlpEncoder,
  predictionHead,
  projectionHead,
} from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import {
  augment,
  batchIndices,
  type ImageDataset,
  imageBatch,
  type MultiCropOptions,
  multiCropPairs,
  type StepEvent,
  type TrainConfig,
  take,
  trainBarlowTwins,
  trainBYOL,
  trainSimCLR,
  trainSimSiam,
  trainVICReg,
} from '../src/index.js';
import { loadMnist } from '../src/node.js';
import { multiCropLoss } from '../src/recipes/multi-crop.js';
import { tinyImages } from './fixtures/resume-setup.js';

useCpuBackend();

const read = (t: tf.Tensor) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};
const values = (models: tfl.LayersModel[]) =>
  models.flatMap((m) => m.getWeights().map((w) => Array.from(w.dataSync())));

/** The dataset's images resized to side × side (bilinear), as a new dataset. */
function smallDigits(dataset: ImageDataset, side: number): ImageDataset {
  const pixels = tf.tidy(() =>
    tf.image
      .resizeBilinear(imageBatch(dataset, Int32Array.from(dataset.labels.keys())), [side, side])
      .mul(255)
      .round()
      .dataSync(),
  );
  return { ...dataset, imageShape: [side, side, 1], pixels: Uint8Array.from(pixels) };
}

describe('the multi-crop pairs', () => {
  it('pair every global view with every other view, never two locals', () => {
    // Views 0, 1 global; 2, 3 local.
    expect(multiCropPairs(2, 4)).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 0],
      [1, 2],
      [1, 3],
    ]);
    const three = multiCropPairs(3, 6);
    expect(three).toHaveLength(3 * 5);
    expect(three.every(([g, v]) => g < 3 && v !== g)).toBe(true);
  });

  it('average the pair losses with weight 1 / (G·(V − 1)), as a loop over the pairs', () => {
    const rng = new Rng(4);
    const z = Array.from({ length: 5 }, () =>
      tf.tensor2d(
        Float32Array.from({ length: 24 }, () => rng.normal()),
        [6, 4],
      ),
    );
    const loss = vicReg();
    let total = 0;
    let terms = 0;
    for (let g = 0; g < 2; g++)
      for (let v = 0; v < 5; v++)
        if (v !== g) {
          total += read(loss(z[g]!, z[v]!));
          terms++;
        }
    expect(terms).toBe(8);
    expect(read(multiCropLoss(2, 5, (g, v) => loss(z[g]!, z[v]!)))).toBeCloseTo(total / 8, 5);
    tf.dispose(z);
  });
});

// 16 random 8×8 images, batch 8; 2 global views at 8 px over [0.4, 1], 2 local at 4 px.
const SEED = 3;
const MULTI = { global: 2, local: 2, localSize: 4 };
const encoder = () => convEncoder({ inputShape: [8, 8, 1], channels: [4], seed: 1 });
const head = (inputDim: number, name = 'projector') =>
  projectionHead({ inputDim, hiddenDim: 8, outputDim: 6, seed: 2, name });
const predictor = () => predictionHead({ inputDim: 6, hiddenDim: 4, seed: 5, name: 'predictor' });

/** The views of the first step, made by hand in the order the recipes draw them. */
function firstViews(): tf.Tensor4D[] {
  const dataset = tinyImages();
  const indices = batchIndices(16, { batchSize: 8, seed: SEED * 1000, dropLast: true }).next()
    .value as Int32Array;
  const rng = new Rng(SEED);
  const crop = (scale: [number, number], size: number) =>
    augment.presets.simclr({ channels: 1, size: 8, crop: { scale, size } });
  const x = imageBatch(dataset, indices);
  const global = crop([0.4, 1], 8);
  const local = crop([0.05, 0.4], 4);
  const views = [global(x, rng), global(x, rng), local(x, rng), local(x, rng)];
  x.dispose();
  return views;
}

const forward = (models: tfl.LayersModel[], x: tf.Tensor) =>
  models.reduce((h, m) => m.apply(h, { training: true }) as tf.Tensor, x) as tf.Tensor2D;

/** Σ over the pairs (g, v) of pair(g, v), divided by their count: a loop written out. */
function pairMean(pair: (g: number, v: number) => number): number {
  let total = 0;
  let terms = 0;
  for (const g of [0, 1])
    for (const v of [0, 1, 2, 3])
      if (v !== g) {
        total += pair(g, v);
        terms++;
      }
  return total / terms;
}

type Built = { encoder: Encoder; heads: Head[] };
type Extra = TrainConfig & { dataset: ImageDataset; multiCrop: MultiCropOptions };
const CASES: {
  name: string;
  build: () => Built;
  train: (b: Built, extra: Extra) => Promise<unknown>;
  expected: (b: Built, views: tf.Tensor4D[]) => number;
}[] = [
  {
    name: 'trainSimCLR',
    build: () => {
      const e = encoder();
      return { encoder: e, heads: [head(e.embeddingDim, 'head')] };
    },
    train: (b, extra) => trainSimCLR({ encoder: b.encoder, head: b.heads[0]!, ...extra }),
    // The views of one size share a forward pass: globals together, locals together.
    expected: ({ encoder: e, heads }, views) => {
      const net = [e.model, heads[0]!.model];
      const z = [
        ...tf.split(forward(net, tf.concat(views.slice(0, 2), 0)), 2, 0),
        ...tf.split(forward(net, tf.concat(views.slice(2), 0)), 2, 0),
      ];
      const loss = ntXent({ temperature: 0.5 });
      return pairMean((g, v) => read(loss(z[g]!, z[v]!)));
    },
  },
  {
    name: 'trainBYOL',
    build: () => {
      const e = encoder();
      return { encoder: e, heads: [head(e.embeddingDim), predictor()] };
    },
    train: (b, extra) =>
      trainBYOL({ encoder: b.encoder, projector: b.heads[0]!, predictor: b.heads[1]!, ...extra }),
    // At step 0 the target equals the online encoder and projector.
    expected: ({ encoder: e, heads }, views) => {
      const z = views.map((x) => forward([e.model, heads[0]!.model], x));
      const p = z.map((zi) => forward([heads[1]!.model], zi));
      const d = negativeCosine();
      return pairMean((g, v) => read(d(p[v]!, z[g]!)));
    },
  },
  {
    name: 'trainSimSiam',
    build: () => {
      const e = encoder();
      return { encoder: e, heads: [head(e.embeddingDim), predictor()] };
    },
    train: (b, extra) =>
      trainSimSiam({
        encoder: b.encoder,
        projector: b.heads[0]!,
        predictor: b.heads[1]!,
        ...extra,
      }),
    expected: ({ encoder: e, heads }, views) => {
      const z = views.map((x) => forward([e.model, heads[0]!.model], x));
      const p = z.map((zi) => forward([heads[1]!.model], zi));
      const d = negativeCosine();
      return pairMean((g, v) => read(d(p[v]!, z[g]!)));
    },
  },
  {
    name: 'trainVICReg',
    build: () => {
      const e = encoder();
      return { encoder: e, heads: [head(e.embeddingDim)] };
    },
    train: (b, extra) => trainVICReg({ encoder: b.encoder, projector: b.heads[0]!, ...extra }),
    expected: ({ encoder: e, heads }, views) => {
      const z = views.map((x) => forward([e.model, heads[0]!.model], x));
      const loss = vicReg();
      return pairMean((g, v) => read(loss(z[g]!, z[v]!)));
    },
  },
  {
    name: 'trainBarlowTwins',
    build: () => {
      const e = encoder();
      return { encoder: e, heads: [head(e.embeddingDim)] };
    },
    train: (b, extra) => trainBarlowTwins({ encoder: b.encoder, projector: b.heads[0]!, ...extra }),
    expected: ({ encoder: e, heads }, views) => {
      const z = views.map((x) => forward([e.model, heads[0]!.model], x));
      const loss = barlowTwins();
      return pairMean((g, v) => read(loss(z[g]!, z[v]!)));
    },
  },
];

const dispose = (b: Built) => {
  b.encoder.model.dispose();
  for (const h of b.heads) h.model.dispose();
};

describe('multi-crop in the two-view recipes', () => {
  it.each(CASES)(
    "$name's first loss is the mean over the pairs of a hand-written loop",
    async ({ build, train, expected }) => {
      const events: StepEvent[] = [];
      const trained = build();
      await train(trained, {
        dataset: tinyImages(),
        batchSize: 8,
        seed: SEED,
        maxSteps: 1,
        multiCrop: MULTI,
        callbacks: { onStepEnd: (e: StepEvent) => void events.push(e) },
      });
      const fresh = build();
      const views = firstViews();
      const want = tf.tidy(() => expected(fresh, views));
      expect(events[0]!.loss).toBeCloseTo(want, 5);
      tf.dispose(views);
      dispose(trained);
      dispose(fresh);
    },
  );

  // 12×12 digits keep the cpu backend's convolutions affordable (28×28 ones take minutes).
  it.each([
    { name: 'trainSimCLR', run: trainSimCLR, lr: 1e-2, extra: { temperature: 0.2 } },
    { name: 'trainVICReg', run: trainVICReg, lr: 3e-3, extra: { hiddenDim: 64 } },
  ])(
    '$name with 2 + 2 crops lowers its loss on MNIST',
    async ({ run, lr, extra }) => {
      const dataset = smallDigits(take(await loadMnist({ split: 'test' }), 64, 3), 12);
      const e = convEncoder({ inputShape: [12, 12, 1], channels: [8, 16], seed: 1 });
      const result = await (run as typeof trainVICReg)({
        dataset,
        encoder: e,
        projectionDim: 32,
        ...extra,
        multiCrop: { global: 2, local: 2, localSize: 6 },
        epochs: 4,
        batchSize: 16,
        optimizer: { name: 'adam', learningRate: lr },
        seed: 2,
      });
      expect(result.steps).toBe(16);
      // The first epoch's mean loss is the highest: compare the last epoch with it.
      const losses = result.history.map((r) => r.loss);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(losses[0]! - 0.05 * Math.abs(losses[0]!));
      e.model.dispose();
    },
    300_000,
  );

  it('BYOL with multi-crop resumes exactly (momentum target included), and refuses other crops', async () => {
    const run = (extra: Record<string, unknown>) => {
      const b = CASES[1]!.build();
      return trainBYOL({
        dataset: tinyImages(),
        encoder: b.encoder,
        projector: b.heads[0]!,
        predictor: b.heads[1]!,
        momentum: 0.9,
        epochs: 2,
        batchSize: 4,
        seed: 3,
        multiCrop: MULTI,
        optimizer: { name: 'adam', learningRate: 5e-3 },
        ...extra,
      });
    };
    const straight = await run({});
    const runDir = await mkdtemp(join(tmpdir(), 'ebm-multicrop-'));
    const stopped = await run({ runDir, maxSteps: 3 });
    const resumed = await run({ runDir, resume: true });
    expect(resumed.steps).toBe(5);
    expect(resumed.history.map((h) => h.loss)).toEqual(straight.history.map((h) => h.loss));
    const all = (r: typeof straight) => [
      r.encoder.model,
      r.projector.model,
      r.predictor.model,
      ...r.target.targets,
    ];
    expect(values(all(resumed))).toEqual(values(all(straight)));
    await expect(run({ runDir, resume: true, multiCrop: { ...MULTI, local: 3 } })).rejects.toThrow(
      /multiCrop\.local: checkpoint 2, this run 3/,
    );
    for (const r of [straight, stopped, resumed]) {
      for (const m of all(r).slice(0, 3)) m.dispose();
      r.target.dispose();
    }
  });

  it('refuses an encoder that cannot take a local view, a custom augmentation and one global view', async () => {
    const dataset = take(await loadMnist({ split: 'test' }), 32, 1);
    const mlp = mlpEncoder({ inputShape: [28, 28, 1], hiddenUnits: [8], embeddingDim: 4 });
    const error = await trainVICReg({
      dataset,
      encoder: mlp,
      batchSize: 8,
      multiCrop: { local: 2, localSize: 12 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).code).toBe('SHAPE_MISMATCH');
    expect((error as Error).message).toMatch(
      /^trainVICReg: multiCrop needs an encoder that takes images of any size \(a ConvNet or ResNet with global pooling\); this one, built for \[28, 28, 1\], cannot embed a 12×12×1 view/,
    );
    await expect(
      trainSimCLR({
        dataset,
        batchSize: 8,
        augmentation: augment.presets.simclr({ channels: 1, size: 28 }),
        multiCrop: { local: 2 },
      }),
    ).rejects.toThrow('leave augmentation unset with it, received a custom augmentation');
    await expect(
      trainBYOL({ dataset, batchSize: 8, multiCrop: { global: 1, local: 2 } }),
    ).rejects.toThrow('trainBYOL: multiCrop.global');
    mlp.model.dispose();
  });

  it('makes local views at their own size', () => {
    const rng = new Rng(1);
    const x = tf.fill([3, 8, 8, 1], 0.25) as tf.Tensor4D;
    const y = augment.randomResizedCrop({ scale: [0.05, 0.4], size: 4 })(x, rng);
    expect(y.shape).toEqual([3, 4, 4, 1]);
    // A constant image stays constant: the crop resamples inside the image.
    for (const v of y.dataSync()) expect(v).toBeCloseTo(0.25, 6);
    tf.dispose([x, y]);
  });
});
