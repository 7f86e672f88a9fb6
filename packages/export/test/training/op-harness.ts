// Checks one gradient rule: a graph of one ONNX op (or a small composition), loss = Σ y·R for a
// fixed random R (so dy = R), differentiated by ../../src/training/autodiff.ts and run on
// onnxruntime-node, against tf.grads of the same computation on tfjs's cpu backend.
import { Rng } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/graph-builder.js';
import { serializeModel } from '../../src/serialize.js';
import { differentiate, lowerStopGradient } from '../../src/training/autodiff.js';
import { lowerBatchNormTraining } from '../../src/training/batch-norm-training.js';
import { inferShapes } from '../../src/training/shapes.js';
import { uniform } from '../helpers.js';
import { relErr } from './reference.js';

export interface OpInput {
  shape: number[];
  lo?: number;
  hi?: number;
  /** Differentiate with respect to it. Default true. */
  grad?: boolean;
  /** Round the values to this many levels across [lo, hi], so that many of them tie. */
  levels?: number;
}

export interface OpCase {
  inputs: OpInput[];
  /** Appends the op(s) to the builder; returns the output value. */
  onnx: (b: GraphBuilder, xs: string[]) => string;
  /** The same computation in tfjs. */
  tfjs: (...xs: tf.Tensor[]) => tf.Tensor;
  seed?: number;
}

/** Worst relative error of the output and of each input gradient (ORT vs tfjs). */
export async function gradError(c: OpCase): Promise<{ forward: number; grads: number[] }> {
  const rng = new Rng(c.seed ?? 1);
  const b = new GraphBuilder('grad_check', 17);
  const data = c.inputs.map((x) => {
    const lo = x.lo ?? -1;
    const hi = x.hi ?? 1;
    const values = uniform(
      rng,
      x.shape.reduce((a, d) => a * d, 1),
      lo,
      hi,
    );
    if (x.levels === undefined) return values;
    const step = (hi - lo) / (x.levels - 1);
    return values.map((v) => lo + Math.round((v - lo) / step) * step);
  });
  const names = c.inputs.map((x, i) => {
    const name = `x${i}`;
    b.reserve(name);
    b.graph.inputs.push({ name, dataType: 'float32', shape: x.shape });
    return name;
  });
  const y = c.onnx(b, names);
  const yShape = inferShapes(b.graph).get(y)!;
  const r = uniform(
    rng,
    yShape.reduce((a, d) => a * d, 1),
  );
  const rName = b.initializer({
    name: 'r',
    dataType: 'float32',
    dims: yShape,
    data: r,
    isWeight: false,
  });
  const loss = b.reduce('ReduceSum', b.op('Mul', [y, rName]), [...yShape.keys()], false);
  const shapes = inferShapes(b.graph);
  const wrt = names.filter((_, i) => c.inputs[i]!.grad !== false);
  const grads = differentiate(b, shapes, loss, wrt);
  const outputs = [y, ...wrt.map((w) => grads.get(w)!)];
  outputs.forEach((v, i) => {
    const name = `out${i}`;
    b.reserve(name);
    b.node('Identity', [v], { outputNames: [name] });
    b.graph.outputs.push({
      name,
      dataType: 'float32',
      shape: i === 0 ? yShape : shapes.get(wrt[i - 1]!)!,
    });
  });
  lowerStopGradient(b);
  lowerBatchNormTraining(b, shapes);
  const bytes = serializeModel(b.graph, {
    irVersion: 8,
    opset: 17,
    producerName: 'test',
    producerVersion: '0',
    docString: '',
    metadata: {},
  });
  const session = await ort.InferenceSession.create(bytes);
  const feeds = Object.fromEntries(
    names.map((n, i) => [n, new ort.Tensor('float32', data[i]!, c.inputs[i]!.shape)]),
  );
  const out = await session.run(feeds);
  await session.release();

  const xs = data.map((d, i) => tf.tensor(d, c.inputs[i]!.shape));
  const rt = tf.tensor(r, yShape);
  const yRef = tf.tidy(() => c.tfjs(...xs));
  const gradFn = tf.grads((...ts: tf.Tensor[]) => tf.sum(tf.mul(c.tfjs(...ts), rt)));
  const gRef = gradFn(xs);
  const forward = relErr(out['out0']!.data as Float32Array, yRef.dataSync());
  const wrtIndex = c.inputs.flatMap((x, i) => (x.grad === false ? [] : [i]));
  const errs = wrtIndex.map((i, k) =>
    relErr(out[`out${k + 1}`]!.data as Float32Array, gRef[i]!.dataSync()),
  );
  tf.dispose([...xs, rt, yRef, ...gRef]);
  return { forward, grads: errs };
}
