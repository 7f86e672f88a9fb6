import { exportError } from '../errors.js';
import { attr, type IrGraph, type IrNode, intAttr, intsAttr } from '../ir.js';

/**
 * Static shapes of every forward value of a training graph (the batch is fixed, so every shape
 * is known). The gradient rules need them to reduce broadcast gradients back to input shapes
 * and to size ConvTranspose outputs.
 */
export type ShapeMap = Map<string, number[]>;

/** Reduce axes: an attribute before opset 18 (ReduceSum: an input from 13), normalised to ≥ 0. */
export function reduceAxes(graph: IrGraph, node: IrNode, rank: number): number[] {
  let axes = intsAttr(node, 'axes', []);
  const input = node.inputs[1];
  if (input !== undefined && input !== '') {
    const t = graph.initializers.get(input);
    if (t === undefined || !(t.data instanceof BigInt64Array)) {
      throw exportError('UNSUPPORTED', `training: ${node.name} has non-constant axes.`);
    }
    axes = Array.from(t.data, Number);
  }
  if (axes.length === 0) return Array.from({ length: rank }, (_, i) => i);
  return axes.map((a) => (a < 0 ? a + rank : a));
}

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}

function convOut(size: number, k: number, s: number, d: number, p0: number, p1: number): number {
  return Math.floor((size + p0 + p1 - ((k - 1) * d + 1)) / s) + 1;
}

/**
 * Rewrites auto_pad SAME_UPPER / SAME_LOWER as the explicit pads it stands for (the exporter
 * writes it for a layer whose spatial input size was unknown, e.g. PIRL's trunk; the training
 * graph knows every size, and the gradient rules read explicit pads).
 */
function resolveAutoPad(
  node: IrNode,
  x: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
): void {
  const autoPad = node.attributes['auto_pad'];
  if (autoPad?.type !== 'STRING' || autoPad.value === 'NOTSET') return;
  if (autoPad.value === 'VALID') {
    node.attributes['pads'] = attr.ints([0, 0, 0, 0]);
  } else if (autoPad.value === 'SAME_UPPER' || autoPad.value === 'SAME_LOWER') {
    const begin: number[] = [];
    const end: number[] = [];
    for (const i of [0, 1]) {
      const size = x[2 + i]!;
      const out = Math.ceil(size / strides[i]!);
      const total = Math.max(
        (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - size,
        0,
      );
      const small = Math.floor(total / 2);
      begin.push(autoPad.value === 'SAME_UPPER' ? small : total - small);
      end.push(autoPad.value === 'SAME_UPPER' ? total - small : small);
    }
    node.attributes['pads'] = attr.ints([...begin, ...end]);
  } else {
    throw exportError('UNSUPPORTED', `training: ${node.name} uses auto_pad ${autoPad.value}.`);
  }
  delete node.attributes['auto_pad'];
}

/** Output spatial sizes of a Conv / MaxPool node over an NCHW input (auto_pad made explicit). */
export function windowOutput(node: IrNode, x: readonly number[], kernel: readonly number[]) {
  const strides = intsAttr(node, 'strides', [1, 1]);
  const dilations = intsAttr(node, 'dilations', [1, 1]);
  resolveAutoPad(node, x, kernel, strides, dilations);
  const pads = intsAttr(node, 'pads', [0, 0, 0, 0]);
  return [0, 1].map((i) =>
    convOut(x[2 + i]!, kernel[i]!, strides[i]!, dilations[i]!, pads[i]!, pads[i + 2]!),
  );
}

/** Fills `shapes` for every node output, in node order (the graph must be sorted). */
export function inferShapes(graph: IrGraph, shapes: ShapeMap = new Map()): ShapeMap {
  for (const i of graph.inputs) shapes.set(i.name, i.shape.map(Number));
  for (const t of graph.initializers.values()) shapes.set(t.name, [...t.dims]);
  for (const node of graph.nodes) {
    const ins = node.inputs.map((n) => shapes.get(n));
    const out = inferNode(graph, node, ins);
    node.outputs.forEach((o, i) => {
      const s = out[i];
      if (s !== undefined && o !== '') shapes.set(o, s);
    });
  }
  return shapes;
}

function need(node: IrNode, s: number[] | undefined): number[] {
  if (s === undefined)
    throw exportError('UNSUPPORTED', `training: unknown input shape at ${node.name}.`);
  return s;
}

function inferNode(
  graph: IrGraph,
  node: IrNode,
  ins: (number[] | undefined)[],
): (number[] | undefined)[] {
  const x = () => need(node, ins[0]);
  switch (node.opType) {
    case 'Relu':
    case 'Sign':
    case 'Exp':
    case 'Log':
    case 'Sqrt':
    case 'Reciprocal':
    case 'Neg':
    case 'Identity':
    case 'Softmax':
    case 'LogSoftmax':
    case 'Softplus':
    case 'Sigmoid':
    case 'StopGradient':
      return [x()];
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Max':
      return [broadcastShapes(x(), need(node, ins[1]))];
    case 'Conv': {
      const w = need(node, ins[1]);
      const [oh, ow] = windowOutput(node, x(), w.slice(2));
      return [[x()[0]!, w[0]!, oh!, ow!]];
    }
    case 'MaxPool': {
      const [oh, ow] = windowOutput(node, x(), intsAttr(node, 'kernel_shape'));
      const y = [x()[0]!, x()[1]!, oh!, ow!];
      return [y, y];
    }
    case 'BatchNormTraining': {
      const c = [
        1,
        x()[1]!,
        ...x()
          .slice(2)
          .map(() => 1),
      ];
      return [x(), c, c, c];
    }
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceSumSquare':
    case 'ReduceMax':
    case 'ReduceLogSumExp':
    case 'ReduceL2': {
      const axes = reduceAxes(graph, node, x().length);
      const keep = intAttr(node, 'keepdims', 1) === 1;
      return [x().flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]))];
    }
    case 'Gemm': {
      const a = x();
      const b = need(node, ins[1]);
      const m = intAttr(node, 'transA', 0) ? a[1]! : a[0]!;
      const n = intAttr(node, 'transB', 0) ? b[0]! : b[1]!;
      return [[m, n]];
    }
    case 'MatMul': {
      const a = x();
      const b = need(node, ins[1]);
      if (a.length !== 2 || b.length !== 2) break;
      return [[a[0]!, b[1]!]];
    }
    case 'Transpose': {
      const perm = intsAttr(node, 'perm', [...x().keys()].reverse());
      return [perm.map((p) => x()[p]!)];
    }
    case 'Flatten': {
      const axis = intAttr(node, 'axis', 1);
      const s = x();
      return [
        [s.slice(0, axis).reduce((a, b) => a * b, 1), s.slice(axis).reduce((a, b) => a * b, 1)],
      ];
    }
    case 'Reshape': {
      const t = graph.initializers.get(node.inputs[1]!);
      if (t === undefined || !(t.data instanceof BigInt64Array)) break;
      const target = Array.from(t.data, Number).map((d, i) => (d === 0 ? x()[i]! : d));
      const total = x().reduce((a, b) => a * b, 1);
      const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return [target.map((d) => (d === -1 ? total / known : d))];
    }
    case 'Concat': {
      const shapesIn = ins.map((s) => need(node, s));
      const rank = shapesIn[0]!.length;
      let axis = intAttr(node, 'axis', 0);
      if (axis < 0) axis += rank;
      const out = [...shapesIn[0]!];
      out[axis] = shapesIn.reduce((a, s) => a + s[axis]!, 0);
      return [out];
    }
  }
  throw exportError(
    'UNSUPPORTED',
    `training: no shape rule for ${node.opType} (node ${node.name}).`,
    { opType: node.opType },
  );
}
