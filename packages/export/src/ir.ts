/**
 * The exporter's in-memory graph: a small, mutable mirror of ONNX's GraphProto that the layer
 * converters append to and the passes rewrite before it is serialized.
 */

export type AttributeValue =
  | { type: 'INT'; value: number }
  | { type: 'FLOAT'; value: number }
  | { type: 'INTS'; value: number[] }
  | { type: 'FLOATS'; value: number[] }
  | { type: 'STRING'; value: string };

export interface IrNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
  /**
   * Set by the global-pooling converter on its Reduce node: the input's rank. When the passes
   * leave it reducing exactly the spatial axes of an NCHW value, it becomes GlobalAveragePool /
   * GlobalMaxPool (see passes/global-pooling.ts).
   */
  globalPoolRank?: number;
}

export type IrDataType = 'float32' | 'float16' | 'int64';

export interface IrTensor {
  name: string;
  dataType: IrDataType;
  dims: number[];
  /** float32: Float32Array; float16: IEEE half bit patterns; int64: BigInt64Array. */
  data: Float32Array | Uint16Array | BigInt64Array;
  /** Trained parameters may be stored as float16; helper constants (eps, shapes) never are. */
  isWeight: boolean;
}

/** A dimension: a size, or a symbolic name for a dynamic one (the batch). */
export type IrDim = number | string;

export interface IrValueInfo {
  name: string;
  dataType: IrDataType;
  shape: IrDim[];
}

export interface IrGraph {
  name: string;
  nodes: IrNode[];
  initializers: Map<string, IrTensor>;
  inputs: IrValueInfo[];
  outputs: IrValueInfo[];
  /** Known static shapes of intermediate values (batch as -1), for passes that need them. */
  shapes: Map<string, number[]>;
}

export const attr = {
  int: (value: number): AttributeValue => ({ type: 'INT', value }),
  float: (value: number): AttributeValue => ({ type: 'FLOAT', value }),
  ints: (value: readonly number[]): AttributeValue => ({ type: 'INTS', value: [...value] }),
  floats: (value: readonly number[]): AttributeValue => ({ type: 'FLOATS', value: [...value] }),
  string: (value: string): AttributeValue => ({ type: 'STRING', value }),
};

/** Reads an INTS attribute (or the default when absent). */
export function intsAttr(node: IrNode, name: string, fallback: number[] = []): number[] {
  const a = node.attributes[name];
  return a?.type === 'INTS' ? a.value : fallback;
}

export function intAttr(node: IrNode, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.type === 'INT' ? a.value : fallback;
}
