/**
 * Against pytorch-metric-learning itself: test/fixtures/pml.json holds inputs and PML's outputs,
 * written by test/pml/make_fixture.py (PML 2.8.1 on Debian's torch 1.13). Where PML and torch
 * are importable, the last test regenerates the fixture and checks it is current.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectClose, useCpuBackend } from '@ebmjs/test-utils';
import { describe, expect, it } from 'vitest';
import { crossBatchMemory, distances, miners, supCon, triplet, vicReg } from '../src/index.js';
import { scalarOf, t2 } from './reference.js';

useCpuBackend();

type Tuple = number[][];
interface Fixture {
  tripletBatchHard: {
    embeddings: number[][];
    labels: number[];
    margin: number;
    normalize: boolean;
    indices: Tuple;
    loss: number;
  }[];
  vicReg: { z1: number[][]; z2: number[][]; loss: number };
  multiSimilarity: { embeddings: number[][]; labels: number[]; indices: Tuple; supCon: number };
  tripletMargin: Record<'all' | 'hard' | 'semihard' | 'easy', { indices: Tuple; loss: number }>;
  crossBatchMemory: {
    batches: number[][][];
    labels: number[][];
    triplet: number[];
    supCon: number[];
    tripletBatchHard: number[];
  };
}

const fixturePath = new URL('./fixtures/pml.json', import.meta.url);
const fx = JSON.parse(readFileSync(fixturePath, 'utf8')) as Fixture;
const asLists = (t: readonly ArrayLike<number>[]) => t.map((x) => Array.from(x));
/** Tuples as sorted rows, so the order a miner lists them in does not matter. */
const rows = (t: readonly ArrayLike<number>[]) =>
  Array.from(t[0]!, (_, k) => t.map((x) => x[k]!).join(',')).sort();

describe('pytorch-metric-learning agreement (1e-4)', () => {
  it('triplet with miners.batchHard equals TripletMarginLoss with BatchHardMiner', () => {
    for (const c of fx.tripletBatchHard) {
      const distance = distances.lp({ normalize: c.normalize });
      const miner = miners.batchHard({ distance });
      const mined = miner(t2(c.embeddings), c.labels);
      expect(rows(mined)).toEqual(rows(c.indices));
      const loss = triplet({ margin: c.margin, distance, miner });
      expectClose(scalarOf(loss(t2(c.embeddings), c.labels)), c.loss, { atol: 1e-4 });
    }
  });

  it('vicReg equals VICRegLoss', () => {
    expectClose(scalarOf(vicReg()(t2(fx.vicReg.z1), t2(fx.vicReg.z2))), fx.vicReg.loss, {
      atol: 1e-4,
    });
  });

  it('miners.multiSimilarity and supCon on its pairs equal MultiSimilarityMiner and SupConLoss', () => {
    const { embeddings, labels, indices } = fx.multiSimilarity;
    const mined = miners.multiSimilarity()(t2(embeddings), labels);
    expect(rows(mined.slice(0, 2))).toEqual(rows(indices.slice(0, 2)));
    expect(rows(mined.slice(2))).toEqual(rows(indices.slice(2)));
    expectClose(scalarOf(supCon()(t2(embeddings), labels, mined)), fx.multiSimilarity.supCon, {
      atol: 1e-4,
    });
  });

  it('miners.tripletMargin equals TripletMarginMiner for every type', () => {
    const { embeddings, labels } = fx.multiSimilarity;
    for (const type of ['all', 'hard', 'semihard', 'easy'] as const) {
      const mined = miners.tripletMargin({ margin: 0.2, type })(t2(embeddings), labels);
      expect(rows(mined), type).toEqual(rows(fx.tripletMargin[type].indices));
      expectClose(
        scalarOf(triplet({ margin: 0.2 })(t2(embeddings), labels, asLists(mined))),
        fx.tripletMargin[type].loss,
        { atol: 1e-4 },
      );
    }
  });

  it('crossBatchMemory equals CrossBatchMemory step by step (queue 10, batches of 4)', () => {
    const { batches, labels } = fx.crossBatchMemory;
    const cases = [
      ['triplet', crossBatchMemory(triplet({ margin: 0.2 }), { size: 10 })],
      ['supCon', crossBatchMemory(supCon({ temperature: 0.1 }), { size: 10 })],
      [
        'tripletBatchHard',
        crossBatchMemory(triplet({ margin: 0.2 }), { size: 10, miner: miners.batchHard() }),
      ],
    ] as const;
    for (const [name, xbm] of cases) {
      const got = batches.map((b, i) => scalarOf(xbm(t2(b), labels[i]!)));
      expectClose(got, fx.crossBatchMemory[name], { atol: 1e-4 });
      xbm.dispose();
    }
  });

  const pml = (() => {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import torch, pytorch_metric_learning'], {
        stdio: 'ignore',
      });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!pml)('the fixture is what make_fixture.py writes with the PML installed here', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ebm-pml-')), 'pml.json');
    execFileSync('/usr/bin/python3', [
      new URL('./pml/make_fixture.py', import.meta.url).pathname,
      out,
    ]);
    const fresh = JSON.parse(readFileSync(out, 'utf8')) as Fixture;
    expect(fresh.tripletBatchHard.map((c) => c.loss)).toEqual(
      fx.tripletBatchHard.map((c) => c.loss),
    );
    expect(fresh.crossBatchMemory).toEqual(fx.crossBatchMemory);
  });
});
