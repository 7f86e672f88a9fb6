/**
 * Miners on a hand-made batch with known answers and against float64 loops, the labelled losses
 * on mined index tuples, and crossBatchMemory against a plain re-implementation of
 * pytorch-metric-learning's CrossBatchMemory.
 */
import { checkGradient, expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  crossBatchMemory,
  distances,
  miners,
  pairContrastive,
  reducers,
  supCon,
  triplet,
} from '../src/index.js';
import {
  cosv,
  expectEbmError,
  lpDist,
  lse,
  type Mat,
  meanNonZeroRef,
  randn,
  scalarOf,
  t2,
  type Vec,
} from './reference.js';

useCpuBackend();

// Five points on a line (distance = |x_i − x_j| with raw Euclidean distances), no ties.
const line = [0, 1, 2.4, 4, 7.5].map((x) => [x, 0]);
const lineLabels = [0, 0, 1, 1, 0];
const raw = distances.lp({ normalize: false });
const lists = (t: readonly ArrayLike<number>[]) => t.map((x) => Array.from(x));

describe('miners on a hand-made batch', () => {
  it('batchHard: per anchor the farthest positive and the nearest negative', () => {
    expect(lists(miners.batchHard({ distance: raw })(t2(line), lineLabels))).toEqual([
      [0, 1, 2, 3, 4],
      [4, 4, 3, 2, 0],
      [2, 2, 1, 1, 3],
    ]);
  });

  it('semiHard: per positive pair the nearest farther negative, else the farthest', () => {
    expect(lists(miners.semiHard({ distance: raw })(t2(line), lineLabels))).toEqual([
      [0, 0, 1, 1, 2, 3, 4, 4],
      [1, 4, 0, 4, 3, 2, 0, 1],
      [2, 3, 2, 3, 0, 1, 2, 2],
    ]);
  });

  it('tripletMargin: t = D_an − D_ap against the margin, for every type', () => {
    const mine = (type: 'all' | 'hard' | 'semihard' | 'easy') =>
      lists(miners.tripletMargin({ margin: 0.75, type, distance: raw })(t2(line), lineLabels));
    const columns = (triplets: number[][]) => [0, 1, 2].map((k) => triplets.map((t) => t[k]!));
    const violating = [
      [0, 4, 2],
      [0, 4, 3],
      [1, 0, 2],
      [1, 4, 2],
      [1, 4, 3],
      [2, 3, 1],
      [4, 0, 2],
      [4, 0, 3],
      [4, 1, 2],
      [4, 1, 3],
    ];
    expect(mine('all')).toEqual(columns(violating));
    expect(mine('hard')).toEqual(columns(violating.filter((t) => t.join() !== '1,0,2')));
    expect(mine('semihard')).toEqual(columns([[1, 0, 2]]));
    expect(mine('easy')).toEqual(
      columns([
        [0, 1, 2],
        [0, 1, 3],
        [1, 0, 3],
        [2, 3, 0],
        [2, 3, 4],
        [3, 2, 0],
        [3, 2, 1],
        [3, 2, 4],
      ]),
    );
  });

  it('multiSimilarity: pairs within ε of the hardest pair of the other kind', () => {
    expect(
      lists(miners.multiSimilarity({ epsilon: 0.5, distance: raw })(t2(line), lineLabels)),
    ).toEqual([
      [0, 1, 1, 2, 4, 4],
      [4, 0, 4, 3, 0, 1],
      [0, 0, 1, 1, 2, 4, 4],
      [2, 3, 2, 3, 1, 2, 3],
    ]);
  });
});

// ---------- float64 references ----------

const z = randn(10, 4, 31);
const labels = [0, 1, 2, 0, 1, 2, 0, 1, 0, 3];
const pairs = (n: number, m: number) =>
  Array.from({ length: n * m }, (_, k) => [Math.floor(k / m), k % m] as const);

/** pytorch-metric-learning's MultiSimilarityMiner conditions, in similarity form. */
function multiSimilarityRef(e: Mat, l: number[], eps: number): number[][] {
  const s = e.map((a) => e.map((b) => cosv(a, b)));
  const out: number[][] = [[], [], [], []];
  for (let i = 0; i < e.length; i++) {
    const pos = e.map((_, j) => j).filter((j) => j !== i && l[j] === l[i]);
    const neg = e.map((_, j) => j).filter((j) => l[j] !== l[i]);
    const maxNeg = Math.max(...neg.map((j) => s[i]![j]!));
    const minPos = Math.min(...pos.map((j) => s[i]![j]!));
    for (const j of pos) {
      if (s[i]![j]! - eps < maxNeg) {
        out[0]!.push(i);
        out[1]!.push(j);
      }
    }
    for (const j of neg) {
      if (s[i]![j]! + eps > minPos) {
        out[2]!.push(i);
        out[3]!.push(j);
      }
    }
  }
  return out;
}

/** The triplet loss of the listed triplets, meanNonZero-reduced. */
function tripletOnRef(e: Mat, t: number[][], margin: number, dist = lpDist): number {
  const [a, p, n] = t as [number[], number[], number[]];
  return meanNonZeroRef(
    a.map((ai, k) => Math.max(0, dist(e[ai]!, e[p[k]!]!) - dist(e[ai]!, e[n[k]!]!) + margin)),
  );
}

/** SupCon on listed pairs, as pytorch-metric-learning's SupConLoss with an indices tuple. */
function supConOnRef(e: Mat, t: number[][], tau: number): number {
  const [a1, p, a2, n] = t as [number[], number[], number[], number[]];
  let total = 0;
  let anchors = 0;
  for (let i = 0; i < e.length; i++) {
    const ps = [...new Set(p.filter((_, k) => a1[k] === i))];
    const ns = [...new Set(n.filter((_, k) => a2[k] === i))];
    if (ps.length === 0) continue;
    const logDen = lse([...new Set([...ps, ...ns])].map((j) => cosv(e[i]!, e[j]!) / tau));
    total += -ps.reduce((s, j) => s + cosv(e[i]!, e[j]!) / tau - logDen, 0) / ps.length;
    anchors++;
  }
  return total / anchors;
}

describe('miners against float64 loops', () => {
  it('multiSimilarity (cosine, PML’s default) equals PML’s conditions', () => {
    for (const eps of [0.1, 0.3]) {
      expect(lists(miners.multiSimilarity({ epsilon: eps })(t2(z), labels))).toEqual(
        multiSimilarityRef(z, labels, eps),
      );
    }
  });

  it('mine between a batch and reference rows (a cross-batch memory)', () => {
    const ref = randn(6, 4, 32);
    const refLabels = [0, 1, 2, 3, 0, 1];
    const [a, p, n] = lists(miners.batchHard()(t2(z), labels, t2(ref), refLabels));
    const d = (i: number, j: number) => lpDist(z[i]!, ref[j]!);
    a!.forEach((i, k) => {
      const pos = refLabels.map((_, j) => j).filter((j) => refLabels[j] === labels[i]);
      const neg = refLabels.map((_, j) => j).filter((j) => refLabels[j] !== labels[i]);
      expect(d(i, p![k]!)).toBe(Math.max(...pos.map((j) => d(i, j))));
      expect(d(i, n![k]!)).toBe(Math.min(...neg.map((j) => d(i, j))));
    });
    // Every anchor has a positive in the reference rows (no self-exclusion there).
    expect(a).toEqual([...Array(10).keys()]);
  });

  it('run inside tf.grad without recording anything', () => {
    const g = tf.grad((x: tf.Tensor) => triplet({ miner: miners.semiHard() })(x, labels))(t2(z));
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it('reject bad input with EbmError', () => {
    expectEbmError(() => miners.batchHard()(t2(z), [0, 1]), 'SHAPE_MISMATCH', /one label per row/);
    expectEbmError(
      () => miners.batchHard()(t2(z), labels, t2(z)),
      'INVALID_ARGUMENT',
      /refEmbeddings and refLabels go together/,
    );
    expectEbmError(
      () => miners.tripletMargin({ type: 'medium' as never }),
      'INVALID_ARGUMENT',
      /type/,
    );
  });
});

describe('labelled losses on mined indices', () => {
  it("triplet's deprecated mining strings equal the miners with a mean reducer", () => {
    for (const seed of [1, 2, 3]) {
      const e = t2(randn(10, 4, seed));
      for (const [mining, miner] of [
        ['hard', miners.batchHard()],
        ['semihard', miners.semiHard()],
      ] as const) {
        expectClose(
          scalarOf(triplet({ miner, reducer: reducers.mean() })(e, labels)),
          scalarOf(triplet({ mining })(e, labels)),
          { atol: 1e-6 },
        );
      }
    }
  });

  it('triplet equals a float64 loop on given triplets and on pairs turned into triplets', () => {
    const t = lists(miners.tripletMargin({ margin: 0.3 })(t2(z), labels));
    expectClose(scalarOf(triplet({ margin: 0.3 })(t2(z), labels, t)), tripletOnRef(z, t, 0.3), {
      atol: 1e-5,
    });
    const ms = lists(miners.multiSimilarity()(t2(z), labels));
    // Pairs → every (a, p, n) of a positive and a negative pair sharing the anchor.
    const converted: number[][] = [[], [], []];
    ms[0]!.forEach((a, i) =>
      ms[2]!.forEach((b, j) => {
        if (a !== b) return;
        converted[0]!.push(a);
        converted[1]!.push(ms[1]![i]!);
        converted[2]!.push(ms[3]![j]!);
      }),
    );
    expectClose(scalarOf(triplet()(t2(z), labels, ms)), tripletOnRef(z, converted, 0.2), {
      atol: 1e-5,
    });
    // An empty tuple gives 0.
    expect(scalarOf(triplet()(t2(z), labels, [[], [], []]))).toBe(0);
  });

  it('pairContrastive equals a float64 loop over the listed pairs', () => {
    const ms = lists(miners.multiSimilarity()(t2(z), labels));
    const per = [
      ...ms[0]!.map((a, k) => 0.5 * lpDist(z[a]!, z[ms[1]![k]!]!) ** 2),
      ...ms[2]!.map((a, k) => 0.5 * Math.max(0, 1 - lpDist(z[a]!, z[ms[3]![k]!]!)) ** 2),
    ];
    expectClose(scalarOf(pairContrastive()(t2(z), labels, ms)), meanNonZeroRef(per), {
      atol: 1e-5,
    });
    // Positive pairs only (an empty negative list), and tensors as tuple entries.
    const onlyPositive = [tf.tensor1d([0], 'int32'), tf.tensor1d([3], 'int32'), [], []];
    expectClose(
      scalarOf(pairContrastive()(t2(z), labels, onlyPositive)),
      0.5 * lpDist(z[0]!, z[3]!) ** 2,
      { atol: 1e-6 },
    );
    const viaMiner = pairContrastive({ miner: miners.multiSimilarity() });
    expectClose(scalarOf(viaMiner(t2(z), labels)), meanNonZeroRef(per), { atol: 1e-5 });
  });

  it('supCon equals PML’s SupConLoss on mined pairs, and all pairs give the plain loss', () => {
    const ms = lists(miners.multiSimilarity({ epsilon: 0.2 })(t2(z), labels));
    expectClose(scalarOf(supCon()(t2(z), labels, ms)), supConOnRef(z, ms, 0.1), { atol: 1e-5 });
    const all: number[][] = [[], [], [], []];
    for (const [i, j] of pairs(10, 10)) {
      if (i === j) continue;
      const k = labels[i] === labels[j] ? 0 : 2;
      all[k]!.push(i);
      all[k + 1]!.push(j);
    }
    expectClose(scalarOf(supCon()(t2(z), labels, all)), scalarOf(supCon()(t2(z), labels)), {
      atol: 1e-6,
    });
  });

  it('have finite-difference gradients on fixed tuples', () => {
    const ms = lists(miners.multiSimilarity()(t2(z), labels));
    const tm = lists(miners.tripletMargin({ margin: 0.5 })(t2(z), labels));
    checkGradient((x) => triplet({ margin: 0.5 })(x, labels, tm), t2(z), { eps: 1e-3 });
    checkGradient((x) => pairContrastive()(x, labels, ms), t2(z), { eps: 1e-3 });
    checkGradient((x) => supCon({ temperature: 0.5 })(x, labels, ms), t2(z), { eps: 1e-3 });
  });

  it('reject malformed tuples and a miner together with a mining string', () => {
    expectEbmError(() => triplet()(t2(z), labels, [[0], [1]]), 'INVALID_ARGUMENT', /triplet tuple/);
    expectEbmError(
      () => triplet()(t2(z), labels, [[0], [10], [2]]),
      'INVALID_ARGUMENT',
      /\[0, 9\]/,
    );
    expectEbmError(
      () => supCon()(t2(z), labels, [[0, 1], [3], [], []]),
      'SHAPE_MISMATCH',
      /lengths 2, 1/,
    );
    expectEbmError(
      () => triplet({ mining: 'hard', miner: miners.batchHard() }),
      'INVALID_ARGUMENT',
      /either miner or mining/,
    );
    expectEbmError(() => supCon({ miner: 3 as never }), 'INVALID_ARGUMENT', /miner/);
  });
});

// ---------- cross-batch memory ----------

/**
 * pytorch-metric-learning's CrossBatchMemory in plain loops: enqueue the batch (FIFO, `size`),
 * then anchors = the batch, references = the queue, all pairs but each row with its own copy.
 */
function xbmRef(
  batches: Mat[],
  batchLabels: number[][],
  size: number,
  loss: (
    q: Mat,
    ql: number[],
    ref: Mat,
    rl: number[],
    self: (i: number, j: number) => boolean,
  ) => number,
): number[] {
  let mem: Vec[] = [];
  let memLabels: number[] = [];
  return batches.map((b, step) => {
    mem = [...mem, ...b].slice(-size);
    memLabels = [...memLabels, ...batchLabels[step]!].slice(-size);
    const offset = mem.length - b.length;
    return loss(b, batchLabels[step]!, mem, memLabels, (i, j) => j === offset + i);
  });
}

const tripletXbmRef =
  (margin: number) =>
  (q: Mat, ql: number[], ref: Mat, rl: number[], self: (i: number, j: number) => boolean) => {
    const losses: number[] = [];
    q.forEach((a, i) => {
      ref.forEach((p, j) => {
        if (rl[j] !== ql[i] || self(i, j)) return;
        ref.forEach((n, k) => {
          if (rl[k] !== ql[i]) losses.push(Math.max(0, lpDist(a, p) - lpDist(a, n) + margin));
        });
      });
    });
    return meanNonZeroRef(losses);
  };

const supConXbmRef =
  (tau: number) =>
  (q: Mat, ql: number[], ref: Mat, rl: number[], self: (i: number, j: number) => boolean) => {
    let total = 0;
    let anchors = 0;
    q.forEach((a, i) => {
      const others = ref.map((_, j) => j).filter((j) => !self(i, j));
      const pos = others.filter((j) => rl[j] === ql[i]);
      if (pos.length === 0) return;
      const logDen = lse(others.map((j) => cosv(a, ref[j]!) / tau));
      total += -pos.reduce((s, j) => s + cosv(a, ref[j]!) / tau - logDen, 0) / pos.length;
      anchors++;
    });
    return anchors === 0 ? 0 : total / anchors;
  };

describe('crossBatchMemory', () => {
  const batches = [0, 1, 2, 3, 4].map((s) => randn(4, 5, 50 + s));
  const batchLabels = [
    [0, 1, 0, 2],
    [1, 1, 2, 0],
    [2, 0, 1, 0],
    [0, 2, 2, 1],
    [1, 0, 2, 2],
  ];

  it('equals a plain FIFO-queue computation with triplet and supCon, queue filling and full', () => {
    for (const [loss, ref] of [
      [triplet({ margin: 0.2 }), tripletXbmRef(0.2)],
      [supCon({ temperature: 0.1 }), supConXbmRef(0.1)],
    ] as const) {
      const xbm = crossBatchMemory(loss, { size: 10 });
      const got = batches.map((b, i) => scalarOf(xbm(t2(b), batchLabels[i]!)));
      expectClose(got, xbmRef(batches, batchLabels, 10, ref), { atol: 1e-5 });
      // FIFO: the last 10 rows, oldest first.
      expect(xbm.queued).toBe(10);
      expect(xbm.labels).toEqual(batchLabels.flat().slice(-10));
      expectClose(xbm.embeddings!.dataSync(), Float32Array.from(batches.flat(2).slice(-50)), {
        atol: 0,
      });
      xbm.dispose();
      expect(xbm.queued).toBe(0);
    }
  });

  it('sends no gradient through the queue: equal to the loss with the queue held constant', () => {
    const prefill = t2(batches[0]!);
    const x0 = t2(batches[1]!);
    const run = (x: tf.Tensor) => {
      const xbm = crossBatchMemory(supCon({ temperature: 0.5 }), { size: 6 });
      scalarOf(xbm(prefill, batchLabels[0]!));
      const value = xbm(x, batchLabels[1]!);
      xbm.dispose();
      return value;
    };
    const g = tf.grad(run)(x0);
    // The same loss with the queue [last 2 rows of batch 0; x0] as constants.
    const queue = t2([...batches[0]!.slice(2), ...batches[1]!]);
    const queueLabels = [...batchLabels[0]!.slice(2), ...batchLabels[1]!];
    const all = [...batchLabels[1]!, ...queueLabels];
    const tuple: number[][] = [[], [], [], []];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 6; j++) {
        if (j === 2 + i) continue;
        const k = queueLabels[j] === batchLabels[1]![i] ? 0 : 2;
        tuple[k]!.push(i);
        tuple[k + 1]!.push(4 + j);
      }
    }
    const constant = (x: tf.Tensor) =>
      supCon({ temperature: 0.5 })(tf.concat([x, queue]), all, tuple);
    checkGradient(constant, x0, { eps: 1e-3 });
    expectClose(g.dataSync(), tf.grad(constant)(x0).dataSync(), { atol: 1e-6 });
  });

  it('mines between the batch and the queue with a miner', () => {
    const xbm = crossBatchMemory(triplet({ margin: 0.2 }), { size: 8, miner: miners.batchHard() });
    const hardRef = (
      q: Mat,
      ql: number[],
      ref: Mat,
      rl: number[],
      self: (i: number, j: number) => boolean,
    ) => {
      const losses: number[] = [];
      q.forEach((a, i) => {
        const pos = ref.map((_, j) => j).filter((j) => rl[j] === ql[i]);
        const neg = ref.map((_, j) => j).filter((j) => rl[j] !== ql[i]);
        if (pos.length === 0 || neg.length === 0) return;
        // The miner may pick the row's own copy as hardest positive; PML then drops the triplet.
        const hp = pos.reduce((b, j) => (lpDist(a, ref[j]!) > lpDist(a, ref[b]!) ? j : b));
        if (self(i, hp)) return;
        const hn = neg.reduce((b, j) => (lpDist(a, ref[j]!) < lpDist(a, ref[b]!) ? j : b));
        losses.push(Math.max(0, lpDist(a, ref[hp]!) - lpDist(a, ref[hn]!) + 0.2));
      });
      return meanNonZeroRef(losses);
    };
    const got = batches.map((b, i) => scalarOf(xbm(t2(b), batchLabels[i]!)));
    expectClose(got, xbmRef(batches, batchLabels, 8, hardRef), { atol: 1e-5 });
    xbm.dispose();
  });

  it('holds one queue tensor, frees it on dispose, and rejects bad batches', async () => {
    const xbm = crossBatchMemory(supCon(), { size: 8 });
    const inputs = batches.map(t2);
    let step = 0;
    const before = tf.memory().numTensors;
    await expectNoTensorLeak(() => xbm(inputs[step % 5]!, batchLabels[step++ % 5]!), 6);
    expect(tf.memory().numTensors).toBe(before + 1);
    xbm.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expectEbmError(
      () => xbm(t2(randn(9, 5, 1)), Array(9).fill(0)),
      'INVALID_ARGUMENT',
      /at most the memory size 8/,
    );
    scalarOf(xbm(inputs[0]!, batchLabels[0]!));
    expectEbmError(() => xbm(t2(randn(4, 3, 1)), [0, 1, 0, 1]), 'SHAPE_MISMATCH', /5 columns/);
    expect(xbm.queued).toBe(4);
    xbm.dispose();
  });
});
