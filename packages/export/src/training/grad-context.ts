import type { GraphBuilder } from '../graph-builder.js';
import { attr, type IrGraph, type IrNode } from '../ir.js';
import type { ShapeMap } from './shapes.js';

/**
 * What a gradient rule may use: the builder to append backward nodes to, the forward values'
 * static shapes, and which inputs need a gradient (rules skip the rest: e.g. the first conv's
 * input gradient is never built).
 */
export class GradContext {
  readonly b: GraphBuilder;
  readonly shapes: ShapeMap;
  private readonly required: ReadonlySet<string>;

  constructor(b: GraphBuilder, shapes: ShapeMap, required: ReadonlySet<string>) {
    this.b = b;
    this.shapes = shapes;
    this.required = required;
  }

  get graph(): IrGraph {
    return this.b.graph;
  }

  needs(value: string | undefined): boolean {
    return value !== undefined && this.required.has(value);
  }

  shape(value: string): number[] {
    const s = this.shapes.get(value);
    if (s === undefined) throw new Error(`training: no shape for ${value}`);
    return s;
  }

  /** Reshape to a static shape. */
  reshape(x: string, shape: readonly number[], name?: string): string {
    return this.b.op('Reshape', [x, this.b.constInt64(shape)], name);
  }

  /** ReduceSum over `axes` (keepdims as given). */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean, name?: string): string {
    return this.b.reduce('ReduceSum', x, axes, keepdims, name);
  }

  /**
   * The gradient of a broadcasting op's input: `g` has the broadcast output's shape `from`; sum it
   * over the axes the input was broadcast along and give it the input's shape `to`.
   */
  sumTo(g: string, from: readonly number[], to: readonly number[], name?: string): string {
    if (from.length === to.length && from.every((d, i) => d === to[i])) return g;
    const lead = from.length - to.length;
    const axes: number[] = [];
    for (let i = 0; i < from.length; i++) {
      const t = i < lead ? 1 : to[i - lead]!;
      if (t === 1 && from[i] !== 1) axes.push(i);
    }
    const summed = axes.length > 0 ? this.reduceSum(g, axes, true, name) : g;
    return this.reshape(summed, to, name);
  }

  /** Float 0/1 of a comparison, as Cast(op(a, b)). */
  mask(op: 'Greater' | 'GreaterOrEqual' | 'Less', a: string, b: string): string {
    return this.b.op('Cast', [this.b.op(op, [a, b])], undefined, { to: attr.int(1) });
  }
}

/** dL/d(inputs) of one node from dL/d(outputs) (undefined: no gradient flows there). */
export type GradRule = (
  ctx: GradContext,
  node: IrNode,
  dys: readonly (string | undefined)[],
) => (string | undefined)[];
