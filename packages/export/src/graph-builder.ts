import { type AttributeValue, attr, type IrGraph, type IrNode, type IrTensor } from './ir.js';

/** Opsets this exporter emits. 13 is the first with single-axis Softmax and Split/Squeeze inputs. */
export const MIN_OPSET = 13;
export const MAX_OPSET = 21;

/**
 * Appends nodes and initializers to an IrGraph with unique names, and hides the few operator
 * signatures that changed between the supported opsets (Reduce* axes became an input in 18).
 */
export class GraphBuilder {
  readonly graph: IrGraph;
  readonly opset: number;
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();

  constructor(name: string, opset: number) {
    this.opset = opset;
    this.graph = {
      name,
      nodes: [],
      initializers: new Map(),
      inputs: [],
      outputs: [],
      shapes: new Map(),
    };
  }

  /** A value or node name not used before: `base`, else `base_1`, `base_2`, ... */
  uniqueName(base: string): string {
    const clean = base.length > 0 ? base : 'v';
    let name = clean;
    for (let i = 1; this.names.has(name); i++) name = `${clean}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Reserves a name that must stay exactly as given (graph inputs and outputs). */
  reserve(name: string): void {
    this.names.add(name);
  }

  /** Appends a node and returns its output names (one unless `outputs` says more). */
  node(
    opType: string,
    inputs: string[],
    options: {
      name?: string;
      attributes?: Record<string, AttributeValue>;
      outputs?: number;
      /** Exact (already reserved) output names, e.g. graph outputs. */
      outputNames?: string[];
    } = {},
  ): string[] {
    const base = options.name ?? opType;
    const count = options.outputs ?? 1;
    const outputs: string[] = options.outputNames ?? [];
    if (options.outputNames === undefined) {
      for (let i = 0; i < count; i++)
        outputs.push(this.uniqueName(count === 1 ? base : `${base}_${i}`));
    }
    const node: IrNode = {
      name: this.uniqueName(`${base}/${opType}`),
      opType,
      inputs,
      outputs,
      attributes: options.attributes ?? {},
    };
    this.graph.nodes.push(node);
    return outputs;
  }

  /** Single-output node. */
  op(
    opType: string,
    inputs: string[],
    name?: string,
    attributes: Record<string, AttributeValue> = {},
  ): string {
    return this.node(opType, inputs, { name, attributes })[0]!;
  }

  /** Adds an initializer and returns its (unique) name. */
  initializer(tensor: Omit<IrTensor, 'name'> & { name: string }): string {
    const name = this.uniqueName(tensor.name);
    this.graph.initializers.set(name, { ...tensor, name });
    return name;
  }

  /** A float32 helper constant (never converted to float16), shared by value. */
  constFloat(values: readonly number[], dims: number[] = []): string {
    return this.sharedConstant('float32', values, dims);
  }

  /** An int64 helper constant (shapes, pads, axes), shared by value. */
  constInt64(values: readonly number[], dims: number[] = [values.length]): string {
    return this.sharedConstant('int64', values, dims);
  }

  private sharedConstant(
    dataType: 'float32' | 'int64',
    values: readonly number[],
    dims: number[],
  ): string {
    const key = `${dataType}|${dims.join(',')}|${values.join(',')}`;
    const existing = this.constants.get(key);
    // A pass may have dropped it (dead code, or a rewrite that was rolled back).
    if (existing !== undefined && this.graph.initializers.has(existing)) return existing;
    const data =
      dataType === 'float32'
        ? Float32Array.from(values)
        : BigInt64Array.from(values, (v) => BigInt(v));
    const name = this.initializer({
      name: `const_${dataType}`,
      dataType,
      dims,
      data,
      isWeight: false,
    });
    this.constants.set(key, name);
    return name;
  }

  transpose(x: string, perm: readonly number[], name?: string): string {
    return this.op('Transpose', [x], name, { perm: attr.ints(perm) });
  }

  /** ReduceMean/ReduceMax/ReduceSumSquare/...: `axes` is an attribute before opset 18, an input from 18. */
  reduce(
    opType: string,
    x: string,
    axes: readonly number[],
    keepdims: boolean,
    name?: string,
  ): string {
    const attributes: Record<string, AttributeValue> = { keepdims: attr.int(keepdims ? 1 : 0) };
    // ReduceSum took axes as an input already in opset 13.
    if (this.opset >= 18 || opType === 'ReduceSum') {
      return this.op(opType, [x, this.constInt64(axes)], name, attributes);
    }
    return this.op(opType, [x], name, { ...attributes, axes: attr.ints(axes) });
  }
}

/** True when Reduce* ops of this opset take `axes` as an input (opset 18 on; ReduceSum from 13). */
export function reduceAxesAsInput(opType: string, opset: number): boolean {
  return opset >= 18 || opType === 'ReduceSum';
}
