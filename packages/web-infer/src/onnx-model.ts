import { EbmError } from './errors.js';
import { ProtoReader } from './protobuf-reader.js';

/** A graph input or output as the ONNX file declares it. */
export interface OnnxValueInfo {
  name: string;
  /** ONNX TensorProto.DataType (1 = float32, 10 = float16, 11 = float64, ...); 0 when not a tensor. */
  elemType: number;
  /** Dimensions: a number, a symbolic name, or null when unknown; null for an unknown rank. */
  dims: (number | string | null)[] | null;
}

/** What web-infer needs from a ModelProto. */
export interface OnnxModelSummary {
  irVersion: number;
  producerName: string;
  opsets: { domain: string; version: number }[];
  /** metadata_props as a plain object. */
  metadata: Record<string, string>;
  /** Graph inputs that are not initializers (older IR versions list weights as inputs too). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export const ONNX_FLOAT = 1;

const TYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

export function onnxTypeName(elemType: number): string {
  return TYPE_NAMES[elemType] ?? (elemType === 0 ? 'a non-tensor type' : `type ${elemType}`);
}

/**
 * Reads the signature and metadata of ONNX model bytes. Throws CORRUPT_FILE when the bytes are
 * not a well-formed ModelProto with a graph.
 */
export function readOnnxModel(bytes: Uint8Array): OnnxModelSummary {
  if (bytes.length === 0) {
    throw new EbmError('CORRUPT_FILE', 'The model file is empty (0 bytes).', { bytes: 0 });
  }
  const model: OnnxModelSummary = {
    irVersion: 0,
    producerName: '',
    opsets: [],
    metadata: {},
    inputs: [],
    outputs: [],
  };
  let graph: ProtoReader | null = null;
  const r = new ProtoReader(bytes);
  try {
    while (!r.done) {
      const [field, wire] = r.tag();
      if (field === 1 && wire === 0) model.irVersion = r.varint();
      else if (field === 2 && wire === 2) model.producerName = r.string();
      else if (field === 7 && wire === 2) graph = r.sub();
      else if (field === 8 && wire === 2) model.opsets.push(readOpset(r.sub()));
      else if (field === 14 && wire === 2) {
        const [k, v] = readEntry(r.sub());
        model.metadata[k] = v;
      } else r.skip(wire);
    }
    if (model.irVersion === 0 || graph === null) {
      throw r.fail(
        model.irVersion === 0 ? 'no ir_version field' : 'no graph field (not an ONNX model?)',
      );
    }
    readGraph(graph, model);
  } catch (error) {
    if (error instanceof EbmError) {
      throw new EbmError(
        'CORRUPT_FILE',
        `Not a valid ONNX model (${bytes.length} bytes): ${error.message}.`,
        { ...error.details, bytes: bytes.length },
      );
    }
    throw error;
  }
  return model;
}

function readOpset(r: ProtoReader): { domain: string; version: number } {
  const opset = { domain: '', version: 0 };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) opset.domain = r.string();
    else if (field === 2 && wire === 0) opset.version = r.varint();
    else r.skip(wire);
  }
  return opset;
}

function readEntry(r: ProtoReader): [string, string] {
  let key = '';
  let value = '';
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) key = r.string();
    else if (field === 2 && wire === 2) value = r.string();
    else r.skip(wire);
  }
  return [key, value];
}

function readGraph(r: ProtoReader, model: OnnxModelSummary): void {
  const initializers = new Set<string>();
  const inputs: OnnxValueInfo[] = [];
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 5 && wire === 2) initializers.add(readTensorName(r.sub()));
    else if (field === 11 && wire === 2) inputs.push(readValueInfo(r.sub()));
    else if (field === 12 && wire === 2) model.outputs.push(readValueInfo(r.sub()));
    else r.skip(wire);
  }
  model.inputs = inputs.filter((i) => !initializers.has(i.name));
}

function readTensorName(r: ProtoReader): string {
  let name = '';
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 8 && wire === 2) name = r.string();
    else r.skip(wire);
  }
  return name;
}

function readValueInfo(r: ProtoReader): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', elemType: 0, dims: null };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) info.name = r.string();
    else if (field === 2 && wire === 2) readType(r.sub(), info);
    else r.skip(wire);
  }
  return info;
}

function readType(r: ProtoReader, info: OnnxValueInfo): void {
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) {
      const t = r.sub();
      while (!t.done) {
        const [f, w] = t.tag();
        if (f === 1 && w === 0) info.elemType = t.varint();
        else if (f === 2 && w === 2) info.dims = readShape(t.sub());
        else t.skip(w);
      }
    } else r.skip(wire);
  }
}

function readShape(r: ProtoReader): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) {
      const d = r.sub();
      let dim: number | string | null = null;
      while (!d.done) {
        const [f, w] = d.tag();
        if (f === 1 && w === 0) dim = d.varint();
        else if (f === 2 && w === 2) dim = d.string() || null;
        else d.skip(w);
      }
      dims.push(dim);
    } else r.skip(wire);
  }
  return dims;
}
