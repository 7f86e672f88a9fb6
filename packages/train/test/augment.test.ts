import { Rng } from '@ebmjs/core';
import { expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { augment } from '../src/index.js';

useCpuBackend();

/** n copies of an image whose channels hold each pixel's own coordinates: ch0 = x/(w−1), ch1 = y/(h−1). */
function coordinateImages(n: number, h: number, w: number): tf.Tensor4D {
  const data = new Float32Array(n * h * w * 2);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data.set([x / (w - 1), y / (h - 1)], ((i * h + y) * w + x) * 2);
  return tf.tensor4d(data, [n, h, w, 2]);
}

function perImage(t: tf.Tensor): Float32Array[] {
  const n = t.shape[0]!;
  const size = t.size / n;
  const data = t.dataSync() as Float32Array;
  return Array.from({ length: n }, (_, i) => data.slice(i * size, (i + 1) * size));
}

describe('randomResizedCrop', () => {
  it('crops boxes whose area fraction and aspect ratio lie in the requested ranges', () => {
    const [h, w] = [48, 64];
    const out = augment.randomResizedCrop({ scale: [0.2, 0.6], ratio: [0.5, 2] })(
      coordinateImages(60, h, w),
      new Rng(1),
    );
    for (const img of perImage(out)) {
      const xs = img.filter((_, k) => k % 2 === 0);
      const ys = img.filter((_, k) => k % 2 === 1);
      // The output spans (w−1)/w of the box, and the coordinate channels are linear, so
      // bilinear sampling is exact and the box size is recovered from the extreme values.
      const bw = (Math.max(...xs) - Math.min(...xs)) * (w - 1) * (w / (w - 1));
      const bh = (Math.max(...ys) - Math.min(...ys)) * (h - 1) * (h / (h - 1));
      const area = (bw * bh) / (w * h);
      expect(area).toBeGreaterThanOrEqual(0.2 - 1e-3);
      expect(area).toBeLessThanOrEqual(0.6 + 1e-3);
      expect(bw / bh).toBeGreaterThanOrEqual(0.5 - 1e-3);
      expect(bw / bh).toBeLessThanOrEqual(2 + 1e-3);
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(-1e-6);
      expect(Math.max(...xs)).toBeLessThanOrEqual(1 + 1e-6);
    }
  });

  it('is the identity at scale 1 and ratio 1', () => {
    const x = coordinateImages(2, 8, 8);
    const out = augment.randomResizedCrop({ scale: [1, 1], ratio: [1, 1] })(x, new Rng(2));
    const diff = tf.max(tf.abs(tf.sub(out, x))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-5);
  });

  it('is deterministic under a seed', () => {
    const x = coordinateImages(4, 16, 16);
    const crop = augment.randomResizedCrop({ degrees: 15 });
    const a = crop(x, new Rng(7)).dataSync();
    const b = crop(x, new Rng(7)).dataSync();
    const c = crop(x, new Rng(8)).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe('rotation', () => {
  it('samples every output pixel from the same distance to the centre', () => {
    const [h, w] = [33, 33];
    const out = augment.rotation({ degrees: 40 })(coordinateImages(5, h, w), new Rng(3));
    const c = (w - 1) / 2;
    for (const img of perImage(out)) {
      let changed = 0;
      for (let y = 8; y < 25; y++) {
        for (let x = 8; x < 25; x++) {
          const k = (y * w + x) * 2;
          const sx = img[k]! * (w - 1);
          const sy = img[k + 1]! * (h - 1);
          expect(Math.hypot(sx - c, sy - c)).toBeCloseTo(Math.hypot(x - c, y - c), 3);
          if (Math.abs(sx - x) > 1e-3) changed++;
        }
      }
      expect(changed).toBeGreaterThan(0);
    }
  });
});

describe('horizontalFlip', () => {
  it('mirrors exactly with p = 1, never with p = 0, about half the images with p = 0.5', () => {
    const x = tf.randomUniform([200, 5, 6, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const mirrored = tf.reverse(x, 2);
    expect(Array.from(augment.horizontalFlip({ p: 1 })(x, new Rng(1)).dataSync())).toEqual(
      Array.from(mirrored.dataSync()),
    );
    expect(Array.from(augment.horizontalFlip({ p: 0 })(x, new Rng(1)).dataSync())).toEqual(
      Array.from(x.dataSync()),
    );
    const half = perImage(augment.horizontalFlip({ p: 0.5 })(x, new Rng(5)));
    const orig = perImage(x);
    const flipped = perImage(mirrored);
    let count = 0;
    half.forEach((img, i) => {
      const same = img.every((v, k) => v === orig[i]![k]);
      const mirror = img.every((v, k) => v === flipped[i]![k]);
      expect(same || mirror).toBe(true);
      if (mirror) count++;
    });
    expect(count / 200).toBeGreaterThan(0.38);
    expect(count / 200).toBeLessThan(0.62);
  });
});

describe('colorJitter', () => {
  const rgb = () => tf.randomUniform([50, 6, 6, 3], 0.05, 0.5, 'float32', 9) as tf.Tensor4D;

  it('scales brightness by one factor per image within [1 − b, 1 + b]', () => {
    const x = rgb();
    const out = augment.colorJitter({ brightness: 0.4, p: 1 })(x, new Rng(2));
    const orig = perImage(x);
    perImage(out).forEach((img, i) => {
      const ratios = img.map((v, k) => v / orig[i]![k]!);
      expect(Math.max(...ratios) - Math.min(...ratios)).toBeLessThan(1e-4);
      expect(ratios[0]).toBeGreaterThanOrEqual(0.6 - 1e-5);
      expect(ratios[0]).toBeLessThanOrEqual(1.4 + 1e-5);
    });
  });

  it('keeps mean luma under contrast and luma under hue; leaves gray pixels gray under saturation and hue', () => {
    // Values in [0.2, 0.4] so no factor pushes a pixel outside [0, 1] (clipping would move the mean).
    const x = tf.randomUniform([50, 6, 6, 3], 0.2, 0.4, 'float32', 10) as tf.Tensor4D;
    const lumaOf = (t: tf.Tensor) => tf.sum(tf.mul(t, tf.tensor1d([0.299, 0.587, 0.114])), 3);
    const contrast = augment.colorJitter({ contrast: 0.4, p: 1 })(x, new Rng(3));
    const meanBefore = tf.mean(lumaOf(x), [1, 2]).dataSync();
    const meanAfter = tf.mean(lumaOf(contrast), [1, 2]).dataSync();
    meanAfter.forEach((m, i) => expect(m).toBeCloseTo(meanBefore[i]!, 4));
    const hue = augment.colorJitter({ hue: 0.1, p: 1 })(tf.mul(x, 0.5) as tf.Tensor4D, new Rng(4));
    const lumaDiff = tf.max(tf.abs(tf.sub(lumaOf(hue), lumaOf(tf.mul(x, 0.5))))).dataSync()[0]!;
    expect(lumaDiff).toBeLessThan(2e-3);
    const gray = tf.tile(
      tf.randomUniform([10, 4, 4, 1], 0, 1, 'float32', 5),
      [1, 1, 1, 3],
    ) as tf.Tensor4D;
    const graySat = augment.colorJitter({ saturation: 0.8, hue: 0.3, p: 1 })(gray, new Rng(6));
    expect(tf.max(tf.abs(tf.sub(graySat, gray))).dataSync()[0]!).toBeLessThan(2e-3);
  });

  it('stays in [0, 1] and works on 1-channel images', () => {
    const x = tf.randomUniform([20, 5, 5, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const out = augment.colorJitter({
      brightness: 0.9,
      contrast: 0.9,
      saturation: 0.5,
      hue: 0.5,
      p: 1,
    })(x, new Rng(8));
    expect(tf.min(out).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(out).dataSync()[0]).toBeLessThanOrEqual(1);
    expect(() => augment.colorJitter({ hue: 0.7 })).toThrow(
      /hue must be a finite number >= 0 <= 0.5/,
    );
  });
});

describe('grayscale and gaussianBlur', () => {
  it('grayscale makes all channels equal the luma', () => {
    const x = tf.randomUniform([3, 4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const g = augment.grayscale({ p: 1 })(x, new Rng(1));
    const data = g.dataSync();
    const src = x.dataSync();
    for (let k = 0; k < data.length; k += 3) {
      const l = 0.299 * src[k]! + 0.587 * src[k + 1]! + 0.114 * src[k + 2]!;
      expect(data[k]).toBeCloseTo(l, 5);
      expect(data[k + 1]).toBeCloseTo(l, 5);
      expect(data[k + 2]).toBeCloseTo(l, 5);
    }
  });

  it('blur keeps the interior mass, lowers variance, and is exact identity with p = 0', () => {
    const x = tf.randomUniform([6, 20, 20, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const none = augment.gaussianBlur({ p: 0 })(x, new Rng(1));
    expect(tf.max(tf.abs(tf.sub(none, x))).dataSync()[0]!).toBeLessThan(1e-6);
    const blurred = augment.gaussianBlur({ p: 1, sigma: [1, 1.5], kernelSize: 5 })(x, new Rng(2));
    const moments = (t: tf.Tensor) => tf.moments(tf.slice(t, [0, 3, 3, 0], [-1, 14, 14, -1]));
    expect(moments(blurred).mean.dataSync()[0]).toBeCloseTo(moments(x).mean.dataSync()[0]!, 1);
    expect(moments(blurred).variance.dataSync()[0]!).toBeLessThan(
      moments(x).variance.dataSync()[0]! * 0.5,
    );
  });
});

describe('jigsaw', () => {
  it('cuts each patch from inside its cell and records the permutation', () => {
    const [h, w] = [30, 30];
    const { patches, permutations } = augment.jigsaw(coordinateImages(4, h, w), new Rng(5), {
      grid: 3,
      patchSize: 8,
    });
    expect(patches.shape).toEqual([36, 8, 8, 2]);
    for (let i = 0; i < 4; i++) {
      expect(Array.from(permutations.slice(i * 9, i * 9 + 9)).sort()).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8,
      ]);
    }
    perImage(patches).forEach((patch, k) => {
      const cell = permutations[k]!;
      const xs = patch.filter((_, j) => j % 2 === 0).map((v) => Math.round(v * (w - 1)));
      const ys = patch.filter((_, j) => j % 2 === 1).map((v) => Math.round(v * (h - 1)));
      // Exact pixels: 8 consecutive columns and rows, all inside the source cell (10 px wide).
      expect(Math.max(...xs) - Math.min(...xs)).toBe(7);
      expect(Math.max(...ys) - Math.min(...ys)).toBe(7);
      expect(Math.floor(Math.min(...xs) / 10)).toBe(cell % 3);
      expect(Math.floor(Math.max(...xs) / 10)).toBe(cell % 3);
      expect(Math.floor(Math.min(...ys) / 10)).toBe(Math.floor(cell / 3));
      expect(Math.floor(Math.max(...ys) / 10)).toBe(Math.floor(cell / 3));
    });
    expect(() => augment.jigsaw(coordinateImages(1, h, w), new Rng(1), { patchSize: 11 })).toThrow(
      /patchSize must be an integer in \[1, 10\]/,
    );
  });
});

describe('presets and memory', () => {
  it('every preset keeps the batch shape and range and leaks nothing', async () => {
    const gray = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const rgb = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const rng = new Rng(1);
    for (const preset of [augment.presets.simclr, augment.presets.mocoV2, augment.presets.pirl]) {
      for (const x of [gray, rgb]) {
        const pipeline = preset({ channels: x.shape[3], size: x.shape[1] });
        const out = pipeline(x, rng);
        expect(out.shape).toEqual(x.shape);
        expect(tf.min(out).dataSync()[0]).toBeGreaterThanOrEqual(0);
        expect(tf.max(out).dataSync()[0]).toBeLessThanOrEqual(1 + 1e-6);
        out.dispose();
        await expectNoTensorLeak(() => augment.twoViews(pipeline, x, rng));
      }
    }
    await expectNoTensorLeak(() => augment.jigsaw(rgb, rng).patches);
  });
});
