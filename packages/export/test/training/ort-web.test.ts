// The compiled SimCLR step is plain ONNX: onnxruntime-web's wasm backend (in Node, one thread)
// must run it as onnxruntime-node does. Both engines start from the same graph and take the
// same three Adam steps on the same views; losses and every state tensor after must agree.
import { Rng } from '@ebmjs/core';
import { convEncoder, projectionHead } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { experimental } from '../../src/index.js';
import { uniform } from '../helpers.js';
import { relErr } from './reference.js';

useCpuBackend();

const { buildSimclrStep, OrtTrainingEngine } = experimental;

describe('experimental SimCLR training step on onnxruntime-web (wasm, Node)', () => {
  it('3 Adam steps (narrow convEncoder, batch 8, 16×16×1): losses and state equal onnxruntime-node (≤ 1e-4 relative)', async () => {
    const size = 16;
    const batch = 8;
    const lr = 1e-2;
    const enc = convEncoder({ inputShape: [size, size, 1], channels: [4, 8], seed: 1 });
    const head = projectionHead({ inputDim: enc.embeddingDim, outputDim: 8, seed: 2 });
    const graph = await buildSimclrStep(enc.model, head.model, {
      batchSize: batch,
      temperature: 0.5,
      optimizer: { kind: 'adam' },
    });
    // helpers.ts sets ortWeb.env.wasm.numThreads = 1 (no worker threads in Node).
    const web = await OrtTrainingEngine.create(ortWeb as never, graph);
    const node = await OrtTrainingEngine.create(ortNode as never, graph);
    const rng = new Rng(3);
    const n = batch * size * size;
    let worst = 0;
    for (let step = 1; step <= 3; step++) {
      const v1 = uniform(rng, n, 0, 1);
      const v2 = uniform(rng, n, 0, 1);
      const a = await web.step(v1, v2, lr);
      const b = await node.step(v1, v2, lr);
      const e = Math.abs(a.loss - b.loss) / Math.abs(b.loss);
      worst = Math.max(worst, e);
      expect(Number.isFinite(a.loss), `web loss at step ${step}`).toBe(true);
      expect(e, `loss at step ${step} (web ${a.loss}, node ${b.loss})`).toBeLessThan(1e-4);
    }
    // Weights, BatchNorm moving statistics and both Adam moments.
    const kinds = new Set(graph.state.map((s) => s.kind));
    expect(kinds.has('weight')).toBe(true);
    for (const s of graph.state) {
      const e = relErr(web.value(s.input), node.value(s.input));
      worst = Math.max(worst, e);
      expect(e, `${s.input} (${s.kind}) after 3 steps`).toBeLessThan(1e-4);
    }
    // The weights moved: a step that silently kept the initial state would also "agree".
    const w = graph.state.find((s) => s.kind === 'weight')!;
    expect(relErr(web.value(w.input), w.initial)).toBeGreaterThan(1e-6);
    // onnxruntime-node writes into the engine's preallocated buffers; onnxruntime-web 1.30 leaves
    // a preallocated CPU output unwritten, so the engine reran step 1 with fetches ORT allocates.
    expect(node.preallocatedOutputs).toBe(true);
    expect(web.preallocatedOutputs).toBe(false);
    console.log(
      `ort-web wasm vs ort-node: worst relative error ${worst.toExponential(2)}; web preallocated outputs ${web.preallocatedOutputs}`,
    );
    await web.release();
    await node.release();
  }, 60_000);
});
