// The training graph's optimizers (export's emitOptimizer, run in onnxruntime-node) against the
// tfjs optimizers @ebmjs/train's createOptimizer builds: the same gradients under a changing
// learning rate give the same weights and state, and state moves between the two mid-run.
import { experimental } from '@ebmjs/export';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createOptimizer,
  type OptimizerConfig,
  setLearningRate,
} from '../../src/optim/create-optimizer.js';

useCpuBackend();

type Spec = experimental.OptimizerSpec;
type Arrays = Map<string, Float32Array>;

const SHAPES: Record<string, number[]> = {
  'conv/kernel': [2, 2, 1, 3],
  'conv/bias': [3],
  'dense/kernel': [3, 4],
  'bn/gamma': [4],
};
const NAMES = Object.keys(SHAPES);
const size = (dims: number[]) => dims.reduce((a, d) => a * d, 1);
/** A cosine-like schedule, so a graph that ignored its `lr` input would drift. */
const LR = [0.1, 0.09, 0.065, 0.035, 0.01];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}
const random = (r: () => number, n: number, scale = 1) =>
  Float32Array.from({ length: n }, () => r() * 2 * scale);

const initial = (): Arrays => {
  const r = rng(7);
  return new Map(NAMES.map((n) => [n, random(r, size(SHAPES[n]!))]));
};
const GRADS: Arrays[] = Array.from({ length: LR.length }, (_, t) => {
  const r = rng(100 + t);
  return new Map(NAMES.map((n) => [n, random(r, size(SHAPES[n]!), 0.5)]));
});

/** The graph spec the lead's engine compiles for each createOptimizer config. */
function specFor(config: OptimizerConfig): Spec {
  switch (config.name) {
    case 'adam':
      return { kind: 'adamw', weightDecay: 0 };
    case 'adamw':
      return { kind: 'adamw', weightDecay: config.weightDecay ?? 0.01 };
    case 'lars':
      return {
        kind: 'lars',
        momentum: config.momentum ?? 0.9,
        weightDecay: config.weightDecay ?? 1e-6,
      };
    default:
      return { kind: 'sgd', momentum: config.momentum ?? 0.9 };
  }
}

let variables: tf.Variable[] = [];
let run = 0;
afterEach(() => {
  tf.dispose(variables);
  variables = [];
});

interface TfjsRun {
  optimizer: tf.Optimizer;
  vars: Map<string, tf.Variable>;
}

/** tfjs variables (uniquely named per run) holding `weights`, and a fresh optimizer. */
function tfjsRun(config: OptimizerConfig, weights: Arrays): TfjsRun {
  const prefix = `run${run++}`;
  const vars = new Map(
    NAMES.map((n) => {
      const v = tf.variable(tf.tensor(weights.get(n)!, SHAPES[n]), true, `${prefix}/${n}`);
      variables.push(v);
      return [n, v] as const;
    }),
  );
  return { optimizer: createOptimizer(config), vars };
}

function tfjsSteps(r: TfjsRun, from: number, to: number): void {
  for (let t = from; t < to; t++) {
    setLearningRate(r.optimizer, LR[t]!);
    const grads = NAMES.map((n) => ({
      name: r.vars.get(n)!.name,
      tensor: tf.tensor(GRADS[t]!.get(n)!, SHAPES[n]),
    }));
    r.optimizer.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
  }
}

/** Weights and `<weight>/<graph slot>` state of a tfjs run, read through getWeights(). */
async function tfjsState(r: TfjsRun, spec: Spec): Promise<{ state: Arrays; iter?: number }> {
  const layout = experimental.optimizerStateLayout(spec);
  const saved = await r.optimizer.getWeights();
  const byName = new Map(saved.map((w) => [w.name, w.tensor]));
  const state: Arrays = new Map();
  for (const n of NAMES) {
    const v = r.vars.get(n)!;
    state.set(n, (await v.data()) as Float32Array);
    for (const [slot, suffix] of Object.entries(layout.slots)) {
      const t = byName.get(`${v.name}/${suffix}`);
      state.set(`${n}/${slot}`, t ? ((await t.data()) as Float32Array) : new Float32Array(0));
    }
  }
  const iter = layout.counter ? (await byName.get(layout.counter)!.data())[0] : undefined;
  for (const t of byName.values()) if (!(t instanceof tf.Variable)) t.dispose();
  return { state, ...(iter === undefined ? {} : { iter }) };
}

/** The optimizer-only graph stepped from `state` over steps [from, to). */
async function graphSteps(spec: Spec, state: Arrays, from: number, to: number): Promise<Arrays> {
  const weights = NAMES.map((n) => ({ name: n, dims: SHAPES[n]! }));
  const { model, slots } = experimental.buildOptimizerStep(spec, weights);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const current = new Map(state);
  for (const n of NAMES)
    for (const s of slots)
      if (current.get(`${n}/${s}`)?.length !== size(SHAPES[n]!))
        current.set(`${n}/${s}`, new Float32Array(size(SHAPES[n]!)));
  try {
    for (let t = from; t < to; t++) {
      const feeds: Record<string, ort.Tensor> = {
        lr: new ort.Tensor('float32', Float32Array.of(LR[t]!), []),
        step: new ort.Tensor('float32', Float32Array.of(t + 1), []),
      };
      for (const n of NAMES) {
        const dims = SHAPES[n]!;
        feeds[n] = new ort.Tensor('float32', current.get(n)!, dims);
        feeds[`${n}/grad`] = new ort.Tensor('float32', GRADS[t]!.get(n)!, dims);
        for (const s of slots)
          feeds[`${n}/${s}`] = new ort.Tensor('float32', current.get(`${n}/${s}`)!, dims);
      }
      const out = await session.run(feeds);
      for (const n of NAMES) {
        current.set(n, out[`${n}/next`]!.data as Float32Array);
        for (const s of slots)
          current.set(`${n}/${s}`, out[`${n}/${s}/next`]!.data as Float32Array);
      }
    }
  } finally {
    await session.release();
  }
  return current;
}

/**
 * Every weight and slot equal to 1e-6 relative, plus 1e-7 of the tensor's largest magnitude: an
 * element where μv and lr·g′ nearly cancel keeps the float32 rounding of the larger terms (LARS's
 * norms are summed in float64 by tfjs's CPU kernel, in float32 by ORT's).
 */
function expectClose(actual: Arrays, expected: Arrays): void {
  for (const [name, want] of expected) {
    const got = actual.get(name)!;
    expect(got.length, name).toBe(want.length);
    const scale = want.reduce((a, w) => Math.max(a, Math.abs(w)), 0);
    let worst = 0;
    want.forEach((w, i) => {
      worst = Math.max(worst, Math.abs(got[i]! - w) / (1e-6 * Math.abs(w) + 1e-7 * scale));
    });
    expect(worst, `${name}: worst error over tolerance`).toBeLessThanOrEqual(1);
  }
}

const CONFIGS: [string, OptimizerConfig][] = [
  ['adam', { name: 'adam', learningRate: LR[0]! }],
  ['adamw', { name: 'adamw', learningRate: LR[0]!, weightDecay: 0.1 }],
  ['lars', { name: 'lars', learningRate: LR[0]!, momentum: 0.9, weightDecay: 1e-3 }],
  ['sgd', { name: 'sgd', learningRate: LR[0]!, momentum: 0.9 }],
];

describe('graph optimizers equal @ebmjs/train createOptimizer', () => {
  for (const [label, config] of CONFIGS) {
    it(`${label}: 5 steps under a changing lr give the same weights and state`, async () => {
      const spec = specFor(config);
      const r = tfjsRun(config, initial());
      tfjsSteps(r, 0, 5);
      const expected = await tfjsState(r, spec);
      r.optimizer.dispose();
      const fresh = tfjsRun(config, initial());
      const start = (await tfjsState(fresh, spec)).state;
      fresh.optimizer.dispose();
      expectClose(await graphSteps(spec, start, 0, 5), expected.state);
      if (expected.iter !== undefined) expect(expected.iter).toBe(5);
    });

    it(`${label}: tfjs state at step 3 continues identically in the graph, and back`, async () => {
      const spec = specFor(config);
      const full = tfjsRun(config, initial());
      tfjsSteps(full, 0, 5);
      const expected = (await tfjsState(full, spec)).state;
      full.optimizer.dispose();

      // tfjs → graph: getWeights() after 3 steps seeds the graph's state; step input = iter + 1.
      const head = tfjsRun(config, initial());
      tfjsSteps(head, 0, 3);
      const saved = await tfjsState(head, spec);
      head.optimizer.dispose();
      const from = saved.iter ?? 3;
      expect(from).toBe(3);
      expectClose(await graphSteps(spec, saved.state, from, 5), expected);

      // graph → tfjs: the graph's 3-step state through setWeights (trainable order), then tfjs.
      const midway = await graphSteps(
        spec,
        (await tfjsState(tfjsRun(config, initial()), spec)).state,
        0,
        3,
      );
      const tail = tfjsRun(config, midway);
      const layout = experimental.optimizerStateLayout(spec);
      const weights: { name: string; tensor: tf.Tensor }[] = [];
      if (layout.counter) weights.push({ name: layout.counter, tensor: tf.scalar(3, 'int32') });
      for (const n of NAMES)
        for (const [slot, suffix] of Object.entries(layout.slots))
          weights.push({
            name: `${tail.vars.get(n)!.name}/${suffix}`,
            tensor: tf.tensor(midway.get(`${n}/${slot}`)!, SHAPES[n]),
          });
      await tail.optimizer.setWeights(weights);
      tf.dispose(weights.map((w) => w.tensor));
      tfjsSteps(tail, 3, 5);
      expectClose((await tfjsState(tail, spec)).state, expected);
      tail.optimizer.dispose();
    });
  }

  it('adamw decays only rank > 1 weights by default, and a decayed flag overrides that', async () => {
    const config: OptimizerConfig = { name: 'adamw', learningRate: LR[0]!, weightDecay: 0.1 };
    const start = initial();
    const ruled = await graphSteps(specFor(config), start, 0, 1);
    const none = await graphSteps({ kind: 'adamw', weightDecay: 0 }, start, 0, 1);
    const all = await graphSteps(
      { kind: 'adamw', weightDecay: 0.1, decay: () => true },
      start,
      0,
      1,
    );
    expect(ruled.get('conv/bias')).toEqual(none.get('conv/bias'));
    expect(ruled.get('dense/kernel')).toEqual(all.get('dense/kernel'));
    expect(ruled.get('dense/kernel')).not.toEqual(none.get('dense/kernel'));
    expect(all.get('conv/bias')).not.toEqual(none.get('conv/bias'));
    expect(experimental.decaysByDefault('x', [3])).toBe(false);
    expect(experimental.decaysByDefault('x', [3, 4])).toBe(true);
  });
});
