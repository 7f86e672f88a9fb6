import type { GraphBuilder } from '../graph-builder.js';
import { type IrNode, intAttr, intsAttr } from '../ir.js';
import { inversePerm, permuteData, product } from '../tensor-utils.js';
import { consumersOf, producersOf, removeDeadNodes } from './graph-utils.js';

/**
 * Flatten(Transpose(x, p)) · W  =  Flatten(x) · W', with W's rows permuted to x's element order.
 * This removes the NCHW -> NHWC Transpose that a conv stack otherwise keeps in front of a
 * Flatten + Dense head, while the model still computes tfjs's NHWC-ordered flatten exactly.
 * Applies only when every reader of the flattened value is a MatMul, or a Gemm with transA = 0,
 * with a constant weight ([rows, cols], or [cols, rows] for Gemm's transB = 1), and the
 * feature-map shape is static.
 */
export function foldFlattenTranspose(b: GraphBuilder): void {
  const graph = b.graph;
  let changed = true;
  while (changed) {
    changed = false;
    const producers = producersOf(graph);
    const consumers = consumersOf(graph);
    const outputs = new Set(graph.outputs.map((o) => o.name));
    for (const flatten of graph.nodes) {
      if (flatten.opType !== 'Flatten' || intAttr(flatten, 'axis', 1) !== 1) continue;
      const t = flatten.inputs[0]!;
      const transpose = producers.get(t);
      const shape = graph.shapes.get(t);
      if (transpose?.opType !== 'Transpose' || shape === undefined) continue;
      const p = intsAttr(transpose, 'perm');
      if (p[0] !== 0 || shape.length !== p.length) continue;
      const f = flatten.outputs[0]!;
      if (outputs.has(f)) continue;
      const featureDims = shape.slice(1);
      const rows = product(featureDims);
      const readers = consumers.get(f) ?? [];
      if (readers.length === 0 || !readers.every((r) => isFoldableMatMul(b, r, f, rows))) continue;

      for (const reader of readers) {
        const w = graph.initializers.get(reader.inputs[1]!)!;
        const inv = inversePerm(p);
        // t's feature axes in x's order (axis 0 of t is the batch, kept first by the check above).
        const rowOrder = inv.slice(1).map((a) => a - 1);
        let moved: { data: typeof w.data };
        if (transB(reader)) {
          // W as [cols, t's feature dims...] -> [cols, x's feature dims...].
          const cols = w.dims[0]!;
          moved = permuteData(w.data, [cols, ...featureDims], [0, ...rowOrder.map((a) => a + 1)]);
        } else {
          // W as [t's feature dims..., cols] -> [x's feature dims..., cols].
          const cols = w.dims[1]!;
          moved = permuteData(w.data, [...featureDims, cols], [...rowOrder, featureDims.length]);
        }
        reader.inputs = [
          reader.inputs[0]!,
          b.initializer({
            ...w,
            name: `${w.name}/nchw_rows`,
            dims: [...w.dims],
            data: moved.data,
          }),
          ...reader.inputs.slice(2),
        ];
      }
      flatten.inputs = [transpose.inputs[0]!];
      changed = true;
      removeDeadNodes(graph);
      break;
    }
  }
}

/** A Gemm that reads its weight as [cols, rows] (the form the Dense converter emits). */
function transB(node: IrNode): boolean {
  return node.opType === 'Gemm' && intAttr(node, 'transB', 0) !== 0;
}

function isFoldableMatMul(b: GraphBuilder, node: IrNode, f: string, rows: number): boolean {
  if (node.opType !== 'MatMul' && node.opType !== 'Gemm') return false;
  if (node.inputs[0] !== f || node.inputs[1] === f) return false;
  if (node.opType === 'Gemm' && intAttr(node, 'transA', 0) !== 0) return false;
  const w = b.graph.initializers.get(node.inputs[1]!);
  const rowAxis = transB(node) ? 1 : 0;
  return (
    w !== undefined && w.dataType === 'float32' && w.dims.length === 2 && w.dims[rowAxis] === rows
  );
}
