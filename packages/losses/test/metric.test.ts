import { checkGradient, expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  distances,
  pairContrastive,
  reducers,
  similarities,
  supCon,
  triplet,
} from '../src/index.js';
import {
  cosv,
  dotv,
  expectEbmError,
  expectFiniteWithGradient,
  lpDist,
  meanNonZeroRef,
  meanRef,
  pairContrastiveRef,
  permuteRows,
  randn,
  scalarOf,
  supConRef,
  t2,
  tripletRef,
  withNorm,
} from './reference.js';

useCpuBackend();

const z = randn(7, 3, 41);
const labels = [0, 1, 0, 2, 1, 0, 2];
const PERM = [4, 6, 0, 2, 5, 1, 3];
const same = Array.from({ length: 7 }, () => [0.3, -0.2, 0.9]);

describe('distances and reducers', () => {
  it('compute cosine, dot and Lp (p = 1, 2, 3; raw or normalised; powers) like a direct loop', () => {
    const a = randn(3, 4, 1);
    const b = randn(5, 4, 2);
    const cases = [
      [similarities.cosine(), cosv],
      [similarities.dot(), dotv],
      [distances.lp(), (x: number[], y: number[]) => lpDist(x, y)],
      [distances.lp({ normalize: false }), (x: number[], y: number[]) => lpDist(x, y, 2, false)],
      [
        distances.lp({ p: 1, normalize: false }),
        (x: number[], y: number[]) => lpDist(x, y, 1, false),
      ],
      [distances.lp({ p: 3 }), (x: number[], y: number[]) => lpDist(x, y, 3)],
      [
        distances.lp({ power: 2, normalize: false }),
        (x: number[], y: number[]) => lpDist(x, y, 2, false) ** 2,
      ],
    ] as const;
    for (const [dist, ref] of cases) {
      const m = dist.matrix(t2(a), t2(b));
      expectClose(
        m.dataSync(),
        a.flatMap((x) => b.map((y) => ref(x, y))),
        { atol: 1e-5, rtol: 1e-5 },
      );
      const p = dist.paired(t2(a), t2(b.slice(0, 3)));
      expectClose(
        p.dataSync(),
        a.map((x, i) => ref(x, b[i]!)),
        { atol: 1e-5, rtol: 1e-5 },
      );
    }
    expect(distances.cosine().isSimilarity && !distances.lp().isSimilarity).toBe(true);
  });

  it('give Lp a zero distance and a finite, zero gradient at identical points', () => {
    const x = t2([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expectClose(distances.lp({ normalize: false }).matrix(x, x).dataSync(), [0, 0, 0, 0], {
      atol: 1e-6,
    });
    const g = tf.grad((v: tf.Tensor) => tf.sum(distances.lp({ normalize: false }).paired(v, x)))(x);
    expect(Array.from(g.dataSync()).every((v) => v === 0)).toBe(true);
    checkGradient(
      (v) => tf.sum(distances.lp({ p: 3 }).matrix(v, t2(randn(2, 3, 5)))) as tf.Scalar,
      t2(randn(3, 3, 6)),
    );
  });

  it('reduce with and without a mask', () => {
    const l = tf.tensor1d([0, 2, 0, 4, 6]);
    const mask = tf.tensor1d([1, 1, 1, 1, 0]);
    expectClose(scalarOf(reducers.mean().reduce(l)), 12 / 5);
    expectClose(scalarOf(reducers.mean().reduce(l, mask)), 6 / 4);
    expectClose(scalarOf(reducers.sum().reduce(l, mask)), 6);
    expectClose(scalarOf(reducers.meanNonZero().reduce(l)), 12 / 3);
    expectClose(scalarOf(reducers.meanNonZero().reduce(l, mask)), 6 / 2);
    expectClose(scalarOf(reducers.meanNonZero().reduce(tf.zeros([3]))), 0);
  });

  it('reject bad shapes with EbmError', () => {
    expectEbmError(
      () => distances.lp().matrix(t2([[1, 2]]), t2([[1, 2, 3]])),
      'SHAPE_MISMATCH',
      /dimension 1/,
    );
    expectEbmError(() => distances.lp({ p: 0.5 }), 'INVALID_ARGUMENT', /p must be/);
  });
});

describe('supCon', () => {
  it('equals a direct loop (L_out of Khosla et al.)', () => {
    for (const tau of [0.1, 0.5]) {
      expectClose(
        scalarOf(supCon({ temperature: tau })(t2(z), labels)),
        supConRef(z, labels, tau),
        { atol: 1e-5 },
      );
    }
    // Anchors without a positive (label 9) are left out; tensor labels work like arrays.
    const lonely = [0, 1, 0, 9, 1, 0, 2];
    expectClose(
      scalarOf(supCon()(t2(z), tf.tensor1d(lonely, 'int32'))),
      supConRef(z, lonely, 0.1),
      { atol: 1e-5 },
    );
    expect(scalarOf(supCon()(t2(z), [0, 1, 2, 3, 4, 5, 6]))).toBe(0);
  });

  it('has finite-difference gradients', () => {
    checkGradient((x) => supCon({ temperature: 0.5 })(x, labels), t2(z));
  });

  it('is invariant under a joint permutation of embeddings and labels', () => {
    const base = scalarOf(supCon()(t2(z), labels));
    expectClose(scalarOf(supCon()(t2(permuteRows(z, PERM)), permuteRows(labels, PERM))), base, {
      atol: 1e-5,
    });
    expect(Math.abs(scalarOf(supCon()(t2(permuteRows(z, PERM)), labels)) - base)).toBeGreaterThan(
      1e-2,
    );
  });

  it('stays finite at τ = 0.01, at norm 1e3 and with identical embeddings', () => {
    const l = supCon({ temperature: 0.01 });
    expectFiniteWithGradient((x) => l(x, labels), t2(z));
    expectFiniteWithGradient((x) => l(x, labels), t2(withNorm(z, 1e3)));
    expectFiniteWithGradient((x) => l(x, labels), t2(same));
    expectClose(scalarOf(l(t2(same), labels)), Math.log(6), { atol: 1e-4 });
  });

  it('rejects a batch of one and mismatched labels', () => {
    expectEbmError(() => supCon()(t2([[1, 2]]), [0]), 'BATCH_TOO_SMALL', /at least 2, received 1/);
    expectEbmError(
      () => supCon()(t2(z), [0, 1]),
      'SHAPE_MISMATCH',
      /one label per row, \[7\], received \[2\]/,
    );
    expectEbmError(
      () => supCon()(t2(z), tf.tensor1d([0, 1, 0, 2, 1, 0, 2], 'bool')),
      'INVALID_DTYPE',
      /int32 or float32/,
    );
  });

  it('leaks no tensors', async () => {
    const x = t2(z);
    await expectNoTensorLeak(() => supCon()(x, labels));
    await expectNoTensorLeak(() => tf.grad((v: tf.Tensor) => supCon()(v, labels))(x));
  });
});

describe('pairContrastive', () => {
  it('equals Hadsell et al. over all pairs, for Lp and cosine, mean and meanNonZero', () => {
    const pairs = pairContrastiveRef(z, labels, 1);
    expectClose(scalarOf(pairContrastive()(t2(z), labels)), meanNonZeroRef(pairs), { atol: 1e-5 });
    expectClose(
      scalarOf(pairContrastive({ reducer: reducers.mean() })(t2(z), labels)),
      meanRef(pairs),
      { atol: 1e-5 },
    );
    const raw = pairContrastiveRef(z, labels, 2.5, (a, b) => lpDist(a, b, 2, false));
    const l = pairContrastive({
      margin: 2.5,
      distance: distances.lp({ normalize: false }),
      reducer: reducers.sum(),
    });
    expectClose(
      scalarOf(l(t2(z), labels)),
      raw.reduce((a, b) => a + b, 0),
      { atol: 1e-4 },
    );
    // Cosine: ½(1 − s)² for positives, ½ max(0, s − m)² for negatives.
    const m = 0.2;
    const cos: number[] = [];
    for (let i = 0; i < z.length; i++)
      for (let j = i + 1; j < z.length; j++) {
        const s = cosv(z[i]!, z[j]!);
        cos.push(labels[i] === labels[j] ? 0.5 * (1 - s) ** 2 : 0.5 * Math.max(0, s - m) ** 2);
      }
    const lc = pairContrastive({
      distance: similarities.cosine(),
      margin: m,
      reducer: reducers.mean(),
    });
    expectClose(scalarOf(lc(t2(z), labels)), meanRef(cos), { atol: 1e-5 });
  });

  it('has finite-difference gradients', () => {
    checkGradient((x) => pairContrastive({ reducer: reducers.mean() })(x, labels), t2(z), {
      eps: 1e-3,
    });
  });

  it('is invariant under a joint permutation', () => {
    const base = scalarOf(pairContrastive()(t2(z), labels));
    expectClose(
      scalarOf(pairContrastive()(t2(permuteRows(z, PERM)), permuteRows(labels, PERM))),
      base,
      { atol: 1e-5 },
    );
  });

  it('stays finite at norm 1e3 (raw distances) and with identical embeddings', () => {
    const raw = pairContrastive({ distance: distances.lp({ normalize: false }), margin: 10 });
    expectFiniteWithGradient((x) => raw(x, labels), t2(withNorm(z, 1e3)));
    expectFiniteWithGradient((x) => pairContrastive()(x, labels), t2(withNorm(z, 1e3)));
    expectFiniteWithGradient((x) => raw(x, labels), t2(same));
    // Identical: positives cost 0, negatives ½ m² each.
    const negPairs = pairContrastiveRef(same, labels, 10).filter((v) => v > 0).length;
    expect(negPairs).toBe(16);
    expectClose(scalarOf(raw(t2(same), labels)), 50, { atol: 1e-4 });
  });

  it('rejects a batch of one', () => {
    expectEbmError(() => pairContrastive()(t2([[1, 2]]), [0]), 'BATCH_TOO_SMALL', /at least 2/);
  });

  it('leaks no tensors', async () => {
    const x = t2(z);
    await expectNoTensorLeak(() => pairContrastive()(x, labels));
    await expectNoTensorLeak(() => tf.grad((v: tf.Tensor) => pairContrastive()(v, labels))(x));
  });
});

describe('triplet', () => {
  const mining = ['all', 'hard', 'semihard'] as const;
  const refReduce = (m: (typeof mining)[number], losses: number[]) =>
    m === 'all' ? meanNonZeroRef(losses) : meanRef(losses);

  it('equals a direct loop for every mining mode, distance and similarity', () => {
    for (const m of mining) {
      for (const margin of [0.2, 1]) {
        const expected = refReduce(m, tripletRef(z, labels, margin, m));
        expectClose(scalarOf(triplet({ margin, mining: m })(t2(z), labels)), expected, {
          atol: 1e-5,
        });
      }
      const cos = triplet({ margin: 0.3, mining: m, distance: similarities.cosine() });
      const expected = refReduce(
        m,
        tripletRef(z, labels, 0.3, m, (a, b) => -cosv(a, b)),
      );
      expectClose(scalarOf(cos(t2(z), labels)), expected, { atol: 1e-5 });
      const sum = triplet({
        margin: 0.5,
        mining: m,
        distance: distances.lp({ p: 1, normalize: false }),
        reducer: reducers.sum(),
      });
      const total = tripletRef(z, labels, 0.5, m, (a, b) => lpDist(a, b, 1, false)).reduce(
        (x, y) => x + y,
        0,
      );
      expectClose(scalarOf(sum(t2(z), labels)), total, { atol: 1e-4 });
    }
  });

  it('semihard picks the nearest negative beyond the positive, and falls back to the farthest', () => {
    // 1-D points: anchor 0 at 0, positive 1 at 1, negatives at 0.5 (inside) and 1.5 (outside).
    const pts = [[0], [1], [0.5], [1.5]];
    const lab = [0, 0, 1, 2];
    const l = triplet({
      mining: 'semihard',
      margin: 1,
      distance: distances.lp({ normalize: false }),
      reducer: reducers.sum(),
    });
    // (a=0,p=1): outside negative 1.5 → 1 − 1.5 + 1 = 0.5; (a=1,p=0): d_ap = 1, negatives at 0.5
    // and 0.5 → none beyond 1 → farthest 0.5 → 1 − 0.5 + 1 = 1.5.
    expectClose(scalarOf(l(t2(pts), lab)), 2, { atol: 1e-5 });
  });

  it('has finite-difference gradients', () => {
    // Mining is piecewise: with seed 41 a step of 1e-3 crosses a semi-hard selection switch
    // (seen in float64 differences of the reference), so these points (seed 40) were chosen
    // with every selection at least 3e-3 from a switch.
    const x0 = t2(randn(7, 3, 40));
    for (const m of mining) {
      checkGradient(
        (x) => triplet({ margin: 1, mining: m, reducer: reducers.mean() })(x, labels),
        x0,
        { eps: 1e-3 },
      );
    }
  });

  it('is invariant under a joint permutation', () => {
    for (const m of mining) {
      const l = triplet({ margin: 0.5, mining: m });
      const base = scalarOf(l(t2(z), labels));
      expectClose(scalarOf(l(t2(permuteRows(z, PERM)), permuteRows(labels, PERM))), base, {
        atol: 1e-5,
      });
    }
  });

  it('stays finite at norm 1e3 and with identical embeddings', () => {
    for (const m of mining) {
      const raw = triplet({ mining: m, distance: distances.lp({ normalize: false }) });
      expectFiniteWithGradient((x) => raw(x, labels), t2(withNorm(z, 1e3)));
      expectFiniteWithGradient((x) => triplet({ mining: m })(x, labels), t2(same));
      // Identical embeddings: every valid triplet costs exactly the margin.
      expectClose(scalarOf(triplet({ mining: m, margin: 0.2 })(t2(same), labels)), 0.2, {
        atol: 1e-5,
      });
    }
  });

  it('rejects batches too small for a triplet and gives 0 without a valid one', () => {
    expectEbmError(
      () => triplet()(t2([[1], [2]]), [0, 1]),
      'BATCH_TOO_SMALL',
      /at least 3, received 2/,
    );
    expect(scalarOf(triplet()(t2(z), [0, 0, 0, 0, 0, 0, 0]))).toBe(0);
    expectEbmError(() => triplet({ mining: 'easy' as never }), 'INVALID_ARGUMENT', /mining/);
  });

  it('leaks no tensors', async () => {
    const x = t2(z);
    for (const m of mining) {
      await expectNoTensorLeak(() => triplet({ mining: m })(x, labels));
      await expectNoTensorLeak(() =>
        tf.grad((v: tf.Tensor) => triplet({ mining: m })(v, labels))(x),
      );
    }
  });
});
