import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type LoopSpec, runTrainingLoop, type StepEvent } from '../src/index.js';

useCpuBackend();
afterEach(() => vi.restoreAllMocks());

/**
 * A loop over a one-variable quadratic whose steps take simulated time: the loss advances a
 * fake performance.now() clock by `stepSeconds(i)` for the i-th step (1-based).
 */
async function run(budget: number, stepSeconds: (i: number) => number, steps = 500) {
  let clock = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => clock * 1000);
  const v = tf.variable(tf.tensor1d([1, -2]));
  let calls = 0;
  const events: StepEvent[] = [];
  const spec: LoopSpec = {
    recipe: 'budgetTest',
    config: {
      epochs: 1,
      batchSize: 2,
      timeBudgetSeconds: budget,
      optimizer: { name: 'sgd', learningRate: 0.01 },
      callbacks: { onStepEnd: (e) => void events.push(e) },
    },
    datasetSize: 2 * steps,
    viewsPerImage: 1,
    trainable: () => [v],
    loss: () => {
      calls++;
      clock += stepSeconds(calls);
      return tf.sum(tf.square(v)) as tf.Scalar;
    },
    models: () => ({}),
    fingerprint: {},
  };
  const result = await runTrainingLoop(spec);
  v.dispose();
  return { result, clock, events };
}

describe('timeBudgetSeconds', () => {
  it('sizes the run from the steps after the first (warm-up) step and fills the budget', async () => {
    // First step 5 s (compilation), then 0.1 s per step; 10 s budget → about 50 steps.
    const { result, clock, events } = await run(10, (i) => (i === 1 ? 5 : 0.1));
    expect(result.stopReason).toBe('timeBudget');
    // Counting the first step in the rate (5.3 s / 3) would have planned 6 steps.
    expect(result.steps).toBeGreaterThanOrEqual(48);
    expect(clock).toBeLessThanOrEqual(10 + 1e-9);
    // The cosine schedule was re-sized: the learning rate has decayed to ~0 at the last step.
    expect(events.at(-1)!.totalSteps).toBe(result.steps);
    expect(events.at(-1)!.learningRate).toBeLessThan(0.01 * 0.01);
  });

  it('fits the plan again after 20 steps when the first timed steps were slow', async () => {
    // Steps 2–4 at 0.15 s (ORT's arena growing), then 0.1 s: the first fit alone would plan
    // ~66 steps of a 10 s budget that affords ~95.
    const { result, clock, events } = await run(10, (i) => (i === 1 ? 0.5 : i <= 4 ? 0.15 : 0.1));
    expect(result.stopReason).toBe('timeBudget');
    expect(result.steps).toBeGreaterThanOrEqual(90);
    expect(clock).toBeLessThanOrEqual(10 + 1e-9);
    expect(events.at(-1)!.totalSteps).toBe(result.steps);
    expect(events.at(-1)!.learningRate).toBeLessThan(0.01 * 0.01);
  });

  it('with steady steps, plans budget / step time steps', async () => {
    const { result, clock } = await run(10, () => 0.5);
    expect(result.stopReason).toBe('timeBudget');
    expect(result.steps).toBe(20);
    expect(clock).toBeCloseTo(10, 9);
  });

  it('stops at the budget when steps slow down after the plan', async () => {
    const { result, clock } = await run(10, (i) => (i <= 4 ? 0.1 : 1));
    expect(result.stopReason).toBe('timeBudget');
    expect(clock).toBeLessThan(11); // stopped by the hard limit within one step of the budget
    expect(result.steps).toBeLessThan(20);
  });

  it('completes every step when the budget is ample', async () => {
    const { result } = await run(1000, () => 0.01, 50);
    expect(result.stopReason).toBe('completed');
    expect(result.steps).toBe(50);
  });
});
