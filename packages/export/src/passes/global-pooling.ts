import type { GraphBuilder } from '../graph-builder.js';
import { attr, type IrNode, intAttr, intsAttr } from '../ir.js';

const GLOBAL_OP: Record<string, string> = {
  ReduceMean: 'GlobalAveragePool',
  ReduceMax: 'GlobalMaxPool',
};

/**
 * A global pooling layer's ReduceMean/ReduceMax that ends up over exactly the spatial axes of an
 * NCHW value (axes 2.. of a rank-3/4 input, as after transpose elimination) becomes
 * GlobalAveragePool/GlobalMaxPool, plus Flatten when the layer drops the pooled axes: the form
 * torch.onnx emits for AdaptiveAvgPool2d(1) + flatten. Both are the same mean/max; the Global*
 * form is what other importers know best (OpenCV 4.6 computes a ReduceMean over spatial axes of
 * unknown size as NaN, and runs GlobalAveragePool on any size).
 */
export function useGlobalPooling(b: GraphBuilder): void {
  const graph = b.graph;
  for (const [index, node] of graph.nodes.entries()) {
    const rank = node.globalPoolRank;
    const op = GLOBAL_OP[node.opType];
    if (rank === undefined || op === undefined) continue;
    const fromInput = node.inputs.length > 1;
    const axes = fromInput
      ? Array.from((graph.initializers.get(node.inputs[1]!)?.data ?? []) as BigInt64Array, Number)
      : intsAttr(node, 'axes');
    const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 2);
    const normalized = axes.map((a) => (a < 0 ? a + rank : a)).sort((u, v) => u - v);
    if (normalized.join(',') !== spatial.join(',')) continue;
    const keep = intAttr(node, 'keepdims', 1) === 1;
    const output = node.outputs[0]!;
    const pooled = keep ? output : b.uniqueName(`${output}/pooled`);
    const replacement: IrNode[] = [
      { name: node.name, opType: op, inputs: [node.inputs[0]!], outputs: [pooled], attributes: {} },
    ];
    if (!keep) {
      replacement.push({
        name: b.uniqueName(`${output}/Flatten`),
        opType: 'Flatten',
        inputs: [pooled],
        outputs: [output],
        attributes: { axis: attr.int(1) },
      });
    }
    graph.nodes.splice(index, 1, ...replacement);
  }
}
