import { checkGradient, expectClose, expectNoTensorLeak, useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { infoNCE, ntXent, pirlNCE, reducers, similarities } from '../src/index.js';
import {
  cosv,
  dotv,
  expectEbmError,
  expectFiniteWithGradient,
  infoNceRef,
  ntXentRef,
  permuteRows,
  pirlTermRef,
  randn,
  scalarOf,
  simplex,
  t2,
  withNorm,
} from './reference.js';

useCpuBackend();

const PERM = [3, 0, 4, 1, 2];

describe('ntXent', () => {
  const z1 = randn(5, 4, 1);
  const z2 = randn(5, 4, 2);

  it('equals a direct loop over the 2N views (cosine and dot)', () => {
    for (const tau of [0.5, 0.1]) {
      expectClose(scalarOf(ntXent({ temperature: tau })(t2(z1), t2(z2))), ntXentRef(z1, z2, tau), {
        atol: 1e-5,
      });
    }
    const dot = ntXent({ temperature: 2, similarity: similarities.dot() })(t2(z1), t2(z2));
    expectClose(scalarOf(dot), ntXentRef(z1, z2, 2, dotv), { atol: 1e-5 });
    const summed = ntXent({ temperature: 0.5, reducer: reducers.sum() })(t2(z1), t2(z2));
    expectClose(scalarOf(summed), 10 * ntXentRef(z1, z2, 0.5), { atol: 1e-4 });
  });

  it('has the gradient of central finite differences in both views', () => {
    const loss = ntXent({ temperature: 0.5 });
    const b = t2(z2);
    checkGradient((x) => loss(x, b), t2(z1), { eps: 1e-2 });
    checkGradient((x) => loss(t2(z1), x), b, { eps: 1e-2 });
  });

  it('is invariant under a joint permutation of the pairs and under swapping the views', () => {
    const loss = ntXent({ temperature: 0.3 });
    const base = scalarOf(loss(t2(z1), t2(z2)));
    expectClose(scalarOf(loss(t2(permuteRows(z1, PERM)), t2(permuteRows(z2, PERM)))), base, {
      atol: 1e-5,
    });
    expectClose(scalarOf(loss(t2(z2), t2(z1))), base, { atol: 1e-5 });
    // A permutation of only one view breaks the pairs: the loss must change.
    expect(Math.abs(scalarOf(loss(t2(z1), t2(permuteRows(z2, PERM)))) - base)).toBeGreaterThan(
      1e-2,
    );
  });

  it('of a perfect encoder equals the analytic lower bound log(1 + 2(N−1)·exp(−N/((N−1)τ)))', () => {
    // Derivation. For anchor i, ℓ_i = log(1 + Σ_{k∉{i,p(i)}} exp((s_ik − s_ip)/τ)), increasing in
    // each negative similarity and decreasing in s_ip ≤ 1. f(x) = log(1 + Σ exp x_k) is convex
    // and symmetric, so by Jensen mean_i ℓ_i ≥ log(1 + (2N−2) exp(x̄)), with x̄ the mean of
    // (s_ik − s_ip)/τ over all (anchor, negative). ‖Σ_a ẑ_a‖² ≥ 0 gives Σ_{a≠b} s_ab ≥ −2N, so the
    // mean negative similarity is ≥ −(2N + Σ_a s_a,p(a)) / (2N(2N−2)); with s_ip ≤ 1,
    // x̄ ≥ (−1/(N−1) − 1)/τ = −N/((N−1)τ). Equality: views of an image coincide (s_ip = 1) and
    // the N images form a regular simplex (all negatives at cosine −1/(N−1)).
    for (const n of [3, 4, 6]) {
      const u = simplex(n);
      const view1 = u.map((r) => r.map((v) => 3 * v)); // cosine ignores scale
      const view2 = u.map((r) => r.map((v) => 0.5 * v));
      for (const tau of [1, 0.5, 0.1, 0.01]) {
        const bound = Math.log(1 + 2 * (n - 1) * Math.exp(-n / ((n - 1) * tau)));
        expectClose(scalarOf(ntXent({ temperature: tau })(t2(view1), t2(view2))), bound, {
          atol: 1e-5,
        });
      }
    }
    // Any other encoder, perfect but not a simplex or not perfect at all, lies above the bound.
    const n = 4;
    const bound = Math.log(1 + 2 * (n - 1) * Math.exp(-n / ((n - 1) * 0.5)));
    for (let seed = 0; seed < 5; seed++) {
      const a = randn(n, 5, 100 + seed);
      expect(scalarOf(ntXent()(t2(a), t2(a)))).toBeGreaterThan(bound + 1e-3);
      expect(scalarOf(ntXent()(t2(a), t2(randn(n, 5, 200 + seed))))).toBeGreaterThan(bound + 1e-3);
    }
  });

  it('stays finite at τ = 0.01, at norm 1e3 and with identical embeddings', () => {
    const loss = ntXent({ temperature: 0.01 });
    const far = t2(withNorm(z2, 1e3));
    expectFiniteWithGradient((x) => loss(x, t2(z2)), t2(z1));
    expectFiniteWithGradient((x) => loss(x, far), t2(withNorm(z1, 1e3)));
    const same = Array.from({ length: 5 }, () => [1, 2, 3, 4]);
    expectFiniteWithGradient((x) => loss(x, t2(same)), t2(same));
    // All views equal: every logit is 1/τ, so the loss is log(2N − 1).
    expectClose(scalarOf(loss(t2(same), t2(same))), Math.log(9), { atol: 1e-4 });
    const dot = ntXent({ temperature: 0.01, similarity: similarities.dot() });
    expectFiniteWithGradient((x) => dot(x, far), t2(withNorm(z1, 1e3)));
  });

  it('rejects a batch of one and mismatched views with EbmError', () => {
    const loss = ntXent();
    expectEbmError(
      () => loss(t2([[1, 2]]), t2([[1, 2]])),
      'BATCH_TOO_SMALL',
      /batch size must be at least 2, received 1/,
    );
    expectEbmError(() => loss(t2(z1), t2(randn(4, 4, 3))), 'SHAPE_MISMATCH', /same shape/);
    expectEbmError(() => loss(tf.tensor1d([1, 2]), t2(z2)), 'INVALID_RANK', /z1 must have rank 2/);
    expectEbmError(() => ntXent({ temperature: 0 }), 'INVALID_ARGUMENT', /temperature/);
  });

  it('leaks no tensors, forward or backward', async () => {
    const loss = ntXent();
    const a = t2(z1);
    const b = t2(z2);
    await expectNoTensorLeak(() => loss(a, b));
    await expectNoTensorLeak(() => tf.grad((x: tf.Tensor) => loss(x, b))(a));
  });
});

describe('infoNCE', () => {
  const q = randn(5, 4, 11);
  const k = randn(5, 4, 12);
  const queue = randn(7, 4, 13);
  const perQuery = Array.from({ length: 5 }, (_, i) => randn(3, 4, 20 + i));

  it('equals a direct loop: in-batch, queue, both, per-query negatives, dot', () => {
    const tau = 0.2;
    const l = infoNCE({ temperature: tau });
    expectClose(scalarOf(l(t2(q), t2(k))), infoNceRef(q, k, undefined, tau, true), { atol: 1e-5 });
    expectClose(scalarOf(l(t2(q), t2(k), t2(queue))), infoNceRef(q, k, queue, tau, false), {
      atol: 1e-5,
    });
    const both = infoNCE({ temperature: tau, inBatchNegatives: true });
    expectClose(scalarOf(both(t2(q), t2(k), t2(queue))), infoNceRef(q, k, queue, tau, true), {
      atol: 1e-5,
    });
    expectClose(
      scalarOf(l(t2(q), t2(k), tf.tensor3d(perQuery))),
      infoNceRef(q, k, perQuery, tau, false),
      { atol: 1e-5 },
    );
    const dot = infoNCE({ temperature: 3, similarity: similarities.dot() });
    expectClose(scalarOf(dot(t2(q), t2(k), t2(queue))), infoNceRef(q, k, queue, 3, false, dotv), {
      atol: 1e-5,
    });
  });

  it('has finite-difference gradients in the query, the key and the queue', () => {
    const l = infoNCE({ temperature: 0.5 });
    checkGradient((x) => l(x, t2(k), t2(queue)), t2(q));
    checkGradient((x) => l(t2(q), x, t2(queue)), t2(k));
    checkGradient((x) => l(t2(q), t2(k), x), t2(queue));
    checkGradient((x) => l(x, t2(k)), t2(q));
  });

  it('is invariant under permuting the pairs jointly and the queue alone', () => {
    const l = infoNCE({ temperature: 0.2, inBatchNegatives: true });
    const base = scalarOf(l(t2(q), t2(k), t2(queue)));
    const qp = t2(permuteRows(q, PERM));
    const kp = t2(permuteRows(k, PERM));
    expectClose(scalarOf(l(qp, kp, t2(permuteRows(queue, [6, 5, 4, 3, 2, 1, 0])))), base, {
      atol: 1e-5,
    });
    expect(Math.abs(scalarOf(l(t2(q), kp, t2(queue))) - base)).toBeGreaterThan(1e-2);
  });

  it('stays finite at τ = 0.01, at norm 1e3 and with identical embeddings', () => {
    const l = infoNCE({ temperature: 0.01, inBatchNegatives: true });
    expectFiniteWithGradient((x) => l(x, t2(k), t2(queue)), t2(q));
    expectFiniteWithGradient(
      (x) => l(x, t2(withNorm(k, 1e3)), t2(withNorm(queue, 1e3))),
      t2(withNorm(q, 1e3)),
    );
    const same = Array.from({ length: 5 }, () => [0.5, -1, 2, 0]);
    expectFiniteWithGradient((x) => l(x, t2(same), t2(same)), t2(same));
    expectClose(scalarOf(l(t2(same), t2(same), t2(same))), Math.log(10), { atol: 1e-4 });
  });

  it('needs at least one negative per query', () => {
    const l = infoNCE();
    expectEbmError(() => l(t2([[1, 0]]), t2([[0, 1]])), 'BATCH_TOO_SMALL', /at least one negative/);
    expectEbmError(
      () => infoNCE({ inBatchNegatives: false })(t2(q), t2(k)),
      'BATCH_TOO_SMALL',
      /at least one negative/,
    );
    expectEbmError(() => l(t2(q), t2(k), t2(randn(3, 5, 1))), 'SHAPE_MISMATCH', /negatives/);
  });

  it('leaks no tensors', async () => {
    const l = infoNCE({ inBatchNegatives: true });
    const [a, b, c] = [t2(q), t2(k), t2(queue)];
    await expectNoTensorLeak(() => l(a, b, c));
    await expectNoTensorLeak(() => tf.grad((x: tf.Tensor) => l(x, b, c))(a));
  });
});

describe('pirlNCE', () => {
  const f = randn(4, 3, 31); // f(v_I)
  const g = randn(4, 3, 32); // g(v_It)
  const bank = randn(6, 3, 33); // f(v_I') from the memory bank
  const memory = randn(4, 3, 34); // m_I
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('equals the lecture formula (infonce) and VISSL NCE (nce), with and without the memory term', () => {
    const tau = 0.5;
    for (const mode of ['infonce', 'nce'] as const) {
      const l = pirlNCE({ temperature: tau, mode });
      expectClose(scalarOf(l(t2(f), t2(g), t2(bank))), mean(pirlTermRef(g, f, bank, tau, mode)), {
        atol: 1e-5,
      });
      const lam = 0.3;
      const withMemory = pirlNCE({ temperature: tau, mode, lambda: lam });
      const t = pirlTermRef(g, memory, bank, tau, mode);
      const i = pirlTermRef(f, memory, bank, tau, mode);
      const expected = mean(t.map((v, r) => lam * v + (1 - lam) * i[r]!));
      expectClose(scalarOf(withMemory(t2(f), t2(g), t2(bank), t2(memory))), expected, {
        atol: 1e-5,
      });
    }
    const fixed = pirlNCE({ temperature: tau, logZ: 3, datasetSize: 500 });
    expectClose(
      scalarOf(fixed(t2(f), t2(g), t2(bank))),
      mean(pirlTermRef(g, f, bank, tau, 'nce', { logZ: 3, datasetSize: 500 })),
      { atol: 1e-5 },
    );
  });

  it('has finite-difference gradients (the batch estimate of Z is a constant)', () => {
    const infonce = pirlNCE({ temperature: 0.5, mode: 'infonce' });
    checkGradient((x) => infonce(t2(f), x, t2(bank), t2(memory)), t2(g), { eps: 1e-3 });
    checkGradient((x) => infonce(x, t2(g), t2(bank), t2(memory)), t2(f), { eps: 1e-3 });
    checkGradient((x) => infonce(t2(f), t2(g), x), t2(bank), { eps: 1e-3 });
    const fixed = pirlNCE({ temperature: 0.5, logZ: 1, datasetSize: 100 });
    checkGradient((x) => fixed(t2(f), x, t2(bank), t2(memory)), t2(g), { eps: 1e-3 });
    checkGradient((x) => fixed(x, t2(g), t2(bank), t2(memory)), t2(f), { eps: 1e-3 });
    checkGradient((x) => fixed(t2(f), t2(g), x), t2(bank), { eps: 1e-3 });
    // VISSL treats its estimate Z = mean(exp(s/τ))·N as a constant: the batch-estimated loss
    // has the gradient of the fixed-Z loss with logZ set to the estimate at this point.
    const all = [
      ...g.map((a, i) => cosv(a, f[i]!)),
      ...g.flatMap((a) => bank.map((n) => cosv(a, n))),
    ];
    const logZ = Math.log((all.reduce((acc, c) => acc + Math.exp(c / 0.5), 0) / all.length) * 1000);
    const batch = pirlNCE({ temperature: 0.5 });
    const frozen = pirlNCE({ temperature: 0.5, logZ, datasetSize: 1000 });
    expectClose(scalarOf(batch(t2(f), t2(g), t2(bank))), scalarOf(frozen(t2(f), t2(g), t2(bank))), {
      atol: 1e-5,
    });
    for (const [which, at] of [
      [0, g],
      [1, f],
      [2, bank],
    ] as const) {
      const grad = (loss: typeof batch) =>
        tf
          .grad((x: tf.Tensor) =>
            loss(which === 1 ? x : t2(f), which === 0 ? x : t2(g), which === 2 ? x : t2(bank)),
          )(t2(at))
          .dataSync();
      expectClose(grad(batch), grad(frozen), { atol: 1e-5 });
    }
  });

  it('is invariant under permuting the batch jointly and the bank alone', () => {
    for (const mode of ['infonce', 'nce'] as const) {
      const l = pirlNCE({ temperature: 0.2, mode });
      const base = scalarOf(l(t2(f), t2(g), t2(bank), t2(memory)));
      const p = [2, 0, 3, 1];
      const permuted = l(
        t2(permuteRows(f, p)),
        t2(permuteRows(g, p)),
        t2(permuteRows(bank, [5, 3, 1, 0, 2, 4])),
        t2(permuteRows(memory, p)),
      );
      expectClose(scalarOf(permuted), base, { atol: 1e-5 });
    }
  });

  it('stays finite at τ = 0.01, at norm 1e3 and with identical embeddings', () => {
    for (const mode of ['infonce', 'nce'] as const) {
      const l = pirlNCE({ temperature: 0.01, mode });
      expectFiniteWithGradient((x) => l(t2(f), x, t2(bank), t2(memory)), t2(g));
      expectFiniteWithGradient(
        (x) => l(t2(withNorm(f, 1e3)), x, t2(withNorm(bank, 1e3))),
        t2(withNorm(g, 1e3)),
      );
      const same = Array.from({ length: 4 }, () => [1, 1, 1]);
      expectFiniteWithGradient((x) => l(t2(same), x, t2(same.slice(0, 3)), t2(same)), t2(same));
    }
  });

  it('needs negatives and validates its options', () => {
    const l = pirlNCE();
    expectEbmError(
      () => l(t2(f), t2(g), tf.zeros([0, 3])),
      'BATCH_TOO_SMALL',
      /number of negatives must be at least 1/,
    );
    expectEbmError(() => pirlNCE({ logZ: 2 }), 'INVALID_ARGUMENT', /datasetSize/);
    expectEbmError(() => pirlNCE({ mode: 'x' as never }), 'INVALID_ARGUMENT', /mode/);
    expectEbmError(() => pirlNCE({ lambda: 2 }), 'INVALID_ARGUMENT', /lambda/);
  });

  it('leaks no tensors', async () => {
    const [a, b, c, m] = [t2(f), t2(g), t2(bank), t2(memory)];
    for (const mode of ['infonce', 'nce'] as const) {
      const l = pirlNCE({ mode });
      await expectNoTensorLeak(() => l(a, b, c, m));
      await expectNoTensorLeak(() => tf.grad((x: tf.Tensor) => l(a, x, c, m))(b));
    }
  });
});
