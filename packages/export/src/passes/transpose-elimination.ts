import { type GraphBuilder, reduceAxesAsInput } from '../graph-builder.js';
import { attr, type IrGraph, type IrNode, type IrTensor, intAttr, intsAttr } from '../ir.js';
import { composePerm, inversePerm, isIdentityPerm, permuteData } from '../tensor-utils.js';
import { foldFlattenTranspose } from './fold-flatten-transpose.js';
import {
  consumersOf,
  countOps,
  graphOutputNames,
  producersOf,
  removeDeadNodes,
  replaceUses,
  topologicalSort,
} from './graph-utils.js';

/** Ops that act on each element independently: a Transpose commutes with them. */
const ELEMENTWISE = new Set([
  'Relu',
  'Sigmoid',
  'Tanh',
  'Elu',
  'Selu',
  'LeakyRelu',
  'Softplus',
  'Softsign',
  'HardSigmoid',
  'ThresholdedRelu',
  'Erf',
  'Identity',
  'Neg',
  'Abs',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Clip',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Max',
  'Min',
  'Pow',
  'PRelu',
  'Sum',
]);

const REDUCE = new Set([
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceSum',
  'ReduceSumSquare',
  'ReduceL2',
]);

/** A planned rewrite of one reader, and whether it leaves a new Transpose behind it. */
interface Rewrite {
  apply: () => void;
  addsTranspose: boolean;
}

function perm(node: IrNode): number[] {
  return intsAttr(node, 'perm');
}

function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

interface GraphState {
  nodes: IrNode[];
  initializers: Map<string, IrTensor>;
}

function save(graph: IrGraph): GraphState {
  return {
    nodes: graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] })),
    initializers: new Map(graph.initializers),
  };
}

function restore(graph: IrGraph, state: GraphState): void {
  const copy = save({ ...graph, ...state });
  graph.nodes = copy.nodes;
  graph.initializers = copy.initializers;
}

/**
 * Sinks Transposes toward the outputs through layout-free ops (elementwise, Concat, Pad,
 * Softmax, Reduce*), merges consecutive and duplicate Transposes and drops identities. The
 * converters wrap every NCHW-only op (Conv, pooling, BatchNorm) in NHWC→NCHW / NCHW→NHWC
 * Transposes; this pass cancels those pairs so a conv stack runs in NCHW from its first layer to
 * its global pooling.
 *
 * Two sinking strategies are tried, each followed by folding Flatten's Transpose into the next
 * MatMul, and the graph with the fewest Transposes kept: "whole" moves a Transpose only when all
 * its readers can take it (never more Transposes than before), "partial" moves it into each reader
 * that can (which also threads through ops like gelu whose other operand only becomes transposed
 * later). If neither improves on the input, the input is kept.
 */
export function eliminateTransposes(b: GraphBuilder): void {
  const graph = b.graph;
  const original = save(graph);
  let best: GraphState | undefined;
  let bestCount = Number.POSITIVE_INFINITY;
  for (const strategy of ['none', 'whole', 'partial'] as const) {
    restore(graph, original);
    if (strategy !== 'none') run(b, strategy === 'partial');
    foldFlattenTranspose(b);
    const count = countOps(graph, 'Transpose');
    if (
      best === undefined ||
      count < bestCount ||
      (count === bestCount && graph.nodes.length < best.nodes.length)
    ) {
      best = save(graph);
      bestCount = count;
    }
  }
  restore(graph, best!);
}

function run(b: GraphBuilder, partial: boolean): void {
  for (let guard = 0; guard < 100_000; guard++) {
    if (!step(b, partial)) break;
    removeDeadNodes(b.graph);
  }
  removeDeadNodes(b.graph);
  topologicalSort(b.graph);
}

/** One rewrite somewhere in the graph; false when nothing applies any more. */
function step(b: GraphBuilder, partial: boolean): boolean {
  const graph = b.graph;
  const producers = producersOf(graph);
  const consumers = consumersOf(graph);
  const outputs = graphOutputNames(graph);
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const seen = new Map<string, IrNode>();
  for (const node of graph.nodes) {
    if (node.opType !== 'Transpose') continue;
    const x = node.inputs[0]!;
    const t = node.outputs[0]!;
    const p = perm(node);
    // Two Transposes of one value with one perm: keep the first.
    const key = `${x}|${p.join()}`;
    const twin = seen.get(key);
    if (twin !== undefined && !outputs.has(t)) {
      replaceUses(graph, t, twin.outputs[0]!);
      graph.nodes = graph.nodes.filter((n) => n !== node);
      return true;
    }
    seen.set(key, node);
    if (isIdentityPerm(p)) {
      if (!outputs.has(t)) {
        replaceUses(graph, t, x);
        graph.nodes = graph.nodes.filter((n) => n !== node);
        return true;
      }
      // An identity in front of a graph output: let x's producer write the output directly.
      const producer = producers.get(x);
      if (producer !== undefined && !outputs.has(x) && !inputs.has(x)) {
        producer.outputs = producer.outputs.map((o) => (o === x ? t : o));
        replaceUses(graph, x, t);
        graph.nodes = graph.nodes.filter((n) => n !== node);
        return true;
      }
    }
    const producer = producers.get(x);
    if (producer?.opType === 'Transpose') {
      node.inputs = [producer.inputs[0]!];
      node.attributes = { ...node.attributes, perm: attr.ints(composePerm(perm(producer), p)) };
      return true;
    }
    if (outputs.has(t) && !partial) continue;
    const readers = consumers.get(t) ?? [];
    if (readers.length === 0) continue;
    const plans = readers.map((reader) => planPush(b, reader, t, x, p, producers, consumers));
    if (partial) {
      const ready = plans.filter((r): r is Rewrite => r !== undefined);
      if (ready.length === 0) continue;
      for (const rewrite of ready) rewrite.apply();
      return true;
    }
    if (plans.some((r) => r === undefined)) continue;
    // Moving one Transpose must not leave several behind (e.g. one per branch).
    if (plans.filter((r) => r?.addsTranspose).length > 1) continue;
    for (const rewrite of plans) rewrite!.apply();
    return true;
  }
  return false;
}

/** Replaces `node`'s first output by a fresh value and adds Transpose(fresh, p) -> that output. */
function transposeAfter(b: GraphBuilder, node: IrNode, p: number[]): void {
  // An identity residual (e.g. a Reduce that removed the permuted axes) needs no Transpose.
  if (isIdentityPerm(p)) return;
  const out = node.outputs[0]!;
  const inner = b.uniqueName(`${out}/nchw`);
  node.outputs = [inner, ...node.outputs.slice(1)];
  insertAfter(b.graph, node, {
    name: b.uniqueName(`${out}/Transpose`),
    opType: 'Transpose',
    inputs: [inner],
    outputs: [out],
    attributes: { perm: attr.ints(p) },
  });
}

function insertAfter(graph: IrGraph, node: IrNode, added: IrNode): void {
  const index = graph.nodes.indexOf(node);
  graph.nodes.splice(index + 1, 0, added);
}

/**
 * How to rewrite `reader` (which reads t = Transpose(x, p)) to read x instead, or undefined if
 * it cannot. Rewrites are planned first and applied only if every reader of t can be rewritten.
 */
function planPush(
  b: GraphBuilder,
  reader: IrNode,
  t: string,
  x: string,
  p: number[],
  producers: Map<string, IrNode>,
  consumers: Map<string, IrNode[]>,
): Rewrite | undefined {
  const graph = b.graph;
  const rank = p.length;
  const inverse = inversePerm(p).join();
  // `value` in x's layout without a new node: t itself, another Transpose(·, p)'s input, or an
  // existing Transpose(value, p⁻¹) (typically the one feeding a convolution).
  const sameTranspose = (value: string): string | undefined => {
    if (value === t) return x;
    const prod = producers.get(value);
    if (prod?.opType === 'Transpose' && perm(prod).join() === p.join()) return prod.inputs[0]!;
    const back = (consumers.get(value) ?? []).find(
      (n) => n.opType === 'Transpose' && perm(n).join() === inverse,
    );
    return back?.outputs[0];
  };

  if (reader.opType === 'Transpose') {
    return {
      addsTranspose: false,
      apply: () => {
        reader.inputs = [x];
        reader.attributes = { ...reader.attributes, perm: attr.ints(composePerm(p, perm(reader))) };
      },
    };
  }

  if (ELEMENTWISE.has(reader.opType)) {
    const inputs: (() => string)[] = [];
    for (const value of reader.inputs) {
      const inner = sameTranspose(value);
      if (inner !== undefined) {
        inputs.push(() => inner);
        continue;
      }
      const constant = graph.initializers.get(value);
      if (constant === undefined || constant.dims.length > rank) return undefined;
      if (constant.dims.every((d) => d === 1)) {
        inputs.push(() => value);
        continue;
      }
      inputs.push(() => permutedConstant(b, constant, p));
    }
    return {
      addsTranspose: true,
      apply: () => {
        reader.inputs = inputs.map((f) => f());
        transposeAfter(b, reader, p);
      },
    };
  }

  if (reader.opType === 'Concat') {
    const inner = reader.inputs.map(sameTranspose);
    if (inner.some((v) => v === undefined)) return undefined;
    const axis = normalizeAxis(intAttr(reader, 'axis', 0), rank);
    return {
      addsTranspose: true,
      apply: () => {
        reader.inputs = inner as string[];
        reader.attributes = { ...reader.attributes, axis: attr.int(p[axis]!) };
        transposeAfter(b, reader, p);
      },
    };
  }

  if (reader.opType === 'Pad') {
    if (reader.inputs[0] !== t || reader.inputs.length > 3) return undefined;
    const pads = graph.initializers.get(reader.inputs[1] ?? '');
    if (pads === undefined || pads.dataType !== 'int64' || pads.dims[0] !== 2 * rank)
      return undefined;
    return {
      addsTranspose: true,
      apply: () => {
        const old = Array.from(pads.data as BigInt64Array, Number);
        const moved = new Array<number>(2 * rank).fill(0);
        p.forEach((src, i) => {
          moved[src] = old[i]!;
          moved[rank + src] = old[rank + i]!;
        });
        reader.inputs = [x, b.constInt64(moved), ...reader.inputs.slice(2)];
        transposeAfter(b, reader, p);
      },
    };
  }

  if (reader.opType === 'Softmax' || reader.opType === 'LogSoftmax') {
    const axis = normalizeAxis(intAttr(reader, 'axis', -1), rank);
    return {
      addsTranspose: true,
      apply: () => {
        reader.inputs = [x];
        reader.attributes = { ...reader.attributes, axis: attr.int(p[axis]!) };
        transposeAfter(b, reader, p);
      },
    };
  }

  if (REDUCE.has(reader.opType)) {
    if (reader.inputs[0] !== t) return undefined;
    const asInput = reduceAxesAsInput(reader.opType, b.opset);
    let axes: number[];
    if (asInput) {
      const c = graph.initializers.get(reader.inputs[1] ?? '');
      if (c === undefined) return undefined;
      axes = Array.from(c.data as BigInt64Array, Number);
    } else {
      axes = intsAttr(reader, 'axes');
    }
    if (axes.length === 0) return undefined;
    axes = axes.map((a) => normalizeAxis(a, rank));
    const keep = intAttr(reader, 'keepdims', 1) === 1;
    const newAxes = axes.map((a) => p[a]!);
    // With keepdims the result keeps the perm; without, the surviving axes keep their relative
    // order in x, which yields a smaller residual perm (often the identity, as for [N,C]).
    const kept = p.map((_, i) => i).filter((i) => !axes.includes(i));
    const sources = kept.map((i) => p[i]!);
    const sortedSources = [...sources].sort((u, v) => u - v);
    const residual = keep ? p : sources.map((s) => sortedSources.indexOf(s));
    return {
      addsTranspose: !isIdentityPerm(residual),
      apply: () => {
        if (asInput) reader.inputs = [x, b.constInt64(newAxes), ...reader.inputs.slice(2)];
        else {
          reader.inputs = [x];
          reader.attributes = { ...reader.attributes, axes: attr.ints(newAxes) };
        }
        transposeAfter(b, reader, residual);
      },
    };
  }
  return undefined;
}

/** c' with Transpose(c', p) = c, for a constant broadcast against a rank-p.length value. */
function permutedConstant(b: GraphBuilder, c: IrTensor, p: number[]): string {
  const rank = p.length;
  const padded = [...new Array<number>(rank - c.dims.length).fill(1), ...c.dims];
  const moved = permuteData(c.data, padded, inversePerm(p));
  return b.initializer({ ...c, name: `${c.name}/permuted`, dims: moved.dims, data: moved.data });
}
