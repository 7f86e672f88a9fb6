import type { GraphBuilder } from '../graph-builder.js';
import { attr, type IrNode } from '../ir.js';
import { topologicalSort } from '../passes/graph-utils.js';

/** The moving statistics a training-mode BatchNorm feeds back (graph inputs → new outputs). */
export interface MovingStats {
  mean: string;
  variance: string;
  newMean: string;
  newVariance: string;
}

/**
 * Turns every inference-form ONNX BatchNormalization (what the exporter writes) into the
 * training form ebm.js differentiates: a `BatchNormTraining` node over the batch statistics
 * (outputs y, mean, variance, 1/σ; lowered to standard ops by `lowerBatchNormTraining`),
 * plus the moving-average updates of tfjs-layers (new = m·old + (1 − m)·batch, biased variance)
 * as new values (one entry per statistic, chained over the calls of a shared layer in node
 * order). The `BatchNormTraining` node exists only between these two passes.
 */
export function useBatchStatistics(
  b: GraphBuilder,
  momentumOf: (movingMeanInput: string) => number,
): MovingStats[] {
  const stats: MovingStats[] = [];
  const nodes = b.graph.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.opType !== 'BatchNormalization') continue;
    const [x, gamma, beta, mean, variance] = node.inputs as [
      string,
      string,
      string,
      string,
      string,
    ];
    const eps = node.attributes['epsilon'];
    const y = node.outputs[0]!;
    const out = ['bmean', 'bvar', 'inv'].map((s) => b.uniqueName(`${node.name}/${s}`));
    const bn: IrNode = {
      name: node.name,
      opType: 'BatchNormTraining',
      inputs: [x, gamma, beta],
      outputs: [y, ...out],
      attributes: { epsilon: eps ?? attr.float(1e-5) },
    };
    nodes[i] = bn;
    const momentum = momentumOf(mean);
    const update = (old: string, batch: string) => {
      const flat = b.op('Reshape', [batch, b.constInt64([-1])]);
      return b.op('Add', [
        b.op('Mul', [old, b.constFloat([momentum])]),
        b.op('Mul', [flat, b.constFloat([1 - momentum])]),
      ]);
    };
    // A layer called several times in one step (PIRL's trunk on the image and on each patch)
    // updates its statistics once per call, in call order, as tfjs-layers does.
    const earlier = stats.find((s) => s.mean === mean);
    if (earlier === undefined)
      stats.push({
        mean,
        variance,
        newMean: update(mean, out[0]!),
        newVariance: update(variance, out[1]!),
      });
    else {
      earlier.newMean = update(earlier.newMean, out[0]!);
      earlier.newVariance = update(earlier.newVariance, out[1]!);
    }
  }
  topologicalSort(b.graph);
  return stats;
}

/**
 * x·scale + shift per channel (axis 1) in ONE pass: ONNX BatchNormalization with mean 0,
 * variance 1 and ε = 0 is exactly that affine map, and ORT runs it as a fused kernel.
 */
export function channelAffine(
  b: GraphBuilder,
  x: string,
  scale: string,
  shift: string,
  channels: number,
): string {
  const zeros = b.constFloat(new Array<number>(channels).fill(0), [channels]);
  const ones = b.constFloat(new Array<number>(channels).fill(1), [channels]);
  return b.op('BatchNormalization', [x, scale, shift, zeros, ones], undefined, {
    epsilon: attr.float(0),
  });
}

/**
 * Expands each BatchNormTraining node into standard ops: the batch mean and E[x²] (two reduction
 * passes), variance = E[x²] − mean², then ONE inference-form BatchNormalization over the batch
 * statistics for y (ORT's fused kernel), instead of six elementwise passes.
 */
export function lowerBatchNormTraining(b: GraphBuilder, shapes: Map<string, number[]>): void {
  const graph = b.graph;
  const lowered: IrNode[] = [];
  for (const node of graph.nodes) {
    if (node.opType !== 'BatchNormTraining') {
      lowered.push(node);
      continue;
    }
    graph.nodes = lowered;
    const [x, gamma, beta] = node.inputs as [string, string, string];
    const [y, mean, variance, inv] = node.outputs as [string, string, string, string];
    const xs = shapes.get(x)!;
    const axes = xs.map((_, i) => i).filter((i) => i !== 1);
    const count = axes.reduce((n, a) => n * xs[a]!, 1);
    const eps = node.attributes['epsilon']!;
    const epsValue = eps.type === 'FLOAT' ? eps.value : 1e-5;
    const m = b.reduce('ReduceMean', x, axes, true);
    const meanSq = b.op('Mul', [
      b.reduce('ReduceSumSquare', x, axes, true),
      b.constFloat([1 / count]),
    ]);
    // Clamped at 0 against rounding (E[x²] − mean² can come out a hair negative).
    const v = b.op('Max', [b.op('Sub', [meanSq, b.op('Mul', [m, m])]), b.constFloat([0])]);
    const r = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [v, b.constFloat([epsValue])])])]);
    const flat = b.constInt64([xs[1]!]);
    const out = b.op(
      'BatchNormalization',
      [x, gamma, beta, b.op('Reshape', [m, flat]), b.op('Reshape', [v, flat])],
      undefined,
      { epsilon: attr.float(epsValue) },
    );
    for (const [from, to] of [
      [m, mean],
      [v, variance],
      [r, inv],
      [out, y],
    ] as const) {
      const producer = lowered.find((n) => n.outputs.includes(from))!;
      producer.outputs = producer.outputs.map((o) => (o === from ? to : o));
      for (const n of lowered) n.inputs = n.inputs.map((i) => (i === from ? to : i));
    }
  }
  graph.nodes = lowered;
  topologicalSort(graph);
}
