import { convEncoder, mlpEncoder } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/index.js';
import { onnxModelType } from '../src/onnx-proto.js';
import { parity, randomizeWeights } from './helpers.js';

useCpuBackend();

interface Attribute {
  name: string;
  i?: number | { toNumber(): number };
}
interface DecodedModel {
  graph: {
    node: { op_type: string; input: string[]; attribute: Attribute[] }[];
    initializer: { name: string; dims: (number | { toNumber(): number })[] }[];
  };
}

function decode(bytes: Uint8Array): DecodedModel {
  const type = onnxModelType();
  return type.toObject(type.decode(bytes), { longs: Number }) as unknown as DecodedModel;
}

/**
 * Issue 14, item 6: where a valid construct trips widely used importers (OpenCV DNN), the
 * exporter emits the form torch.onnx emits. test/second-runtime.test.ts runs them on OpenCV;
 * these checks need no Python.
 */
describe('exported forms other importers expect', () => {
  it('Dense on [batch, in] is Gemm with transB = 1 and its weight stored [out, in] (as torch.onnx emits nn.Linear)', async () => {
    const enc = mlpEncoder({ inputShape: 6, hiddenUnits: [5], embeddingDim: 3, seed: 1 });
    randomizeWeights(enc.model, 1);
    const { maxDiff, bytes } = await parity(enc.model, exportOnnx);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    const model = decode(bytes);
    const gemms = model.graph.node.filter((n) => n.op_type === 'Gemm');
    expect(gemms.length).toBe(2);
    const dims = (name: string) =>
      model.graph.initializer.find((t) => t.name === name)!.dims.map(Number);
    expect(gemms.map((g) => g.attribute.find((a) => a.name === 'transB')?.i)).toEqual([1, 1]);
    expect(gemms.map((g) => dims(g.input[1]!))).toEqual([
      [5, 6],
      [3, 5],
    ]);
  });

  it('global average pooling over NCHW spatial axes is GlobalAveragePool + Flatten, also for free sizes', async () => {
    for (const inputShape of [
      [8, 8, 3],
      [null, null, 3],
    ]) {
      const enc = convEncoder({ inputShape, channels: [4], seed: 2 });
      randomizeWeights(enc.model, 2);
      const bytes = await exportOnnx(enc.model, { layout: 'NCHW' });
      const ops = decode(bytes).graph.node.map((n) => n.op_type);
      expect(ops).toContain('GlobalAveragePool');
      expect(ops).not.toContain('ReduceMean');
      if (inputShape[0] !== null) {
        const { maxDiff } = await parity(enc.model, exportOnnx, { layout: 'NCHW' });
        expect(maxDiff).toBeLessThanOrEqual(1e-4);
      }
    }
  });
});
