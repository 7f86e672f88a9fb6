import type { AttributeValue, IrDataType, IrDim, IrGraph, IrTensor } from './ir.js';
import { ONNX_DTYPE, onnxModelType } from './onnx-proto.js';

export interface ModelHeader {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  metadata: Record<string, string>;
}

const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

function attributeProto(name: string, a: AttributeValue): Record<string, unknown> {
  const base = { name, type: ATTRIBUTE_TYPE[a.type] };
  switch (a.type) {
    case 'FLOAT':
      return { ...base, f: a.value };
    case 'INT':
      return { ...base, i: a.value };
    case 'STRING':
      return { ...base, s: new TextEncoder().encode(a.value) };
    case 'FLOATS':
      return { ...base, floats: a.value };
    case 'INTS':
      return { ...base, ints: a.value };
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Raw little-endian bytes, as TensorProto.raw_data requires. */
function rawBytes(t: IrTensor): Uint8Array {
  const { data } = t;
  if (LITTLE_ENDIAN)
    return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else if (data instanceof Uint16Array) data.forEach((v, i) => view.setUint16(i * 2, v, true));
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return bytes;
}

function tensorProto(t: IrTensor): Record<string, unknown> {
  return { name: t.name, dims: t.dims, data_type: ONNX_DTYPE[t.dataType], raw_data: rawBytes(t) };
}

function valueInfo(name: string, dataType: IrDataType, shape: IrDim[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ONNX_DTYPE[dataType],
        shape: {
          dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })),
        },
      },
    },
  };
}

/** IrGraph + header -> ONNX ModelProto bytes. */
export function serializeModel(graph: IrGraph, header: ModelHeader): Uint8Array {
  const model = {
    ir_version: header.irVersion,
    opset_import: [{ domain: '', version: header.opset }],
    producer_name: header.producerName,
    producer_version: header.producerVersion,
    doc_string: header.docString,
    model_version: 1,
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        name: n.name,
        op_type: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes).map(([k, v]) => attributeProto(k, v)),
      })),
      initializer: [...graph.initializers.values()].map(tensorProto),
      input: graph.inputs.map((v) => valueInfo(v.name, v.dataType, v.shape)),
      output: graph.outputs.map((v) => valueInfo(v.name, v.dataType, v.shape)),
    },
    metadata_props: Object.entries(header.metadata).map(([key, value]) => ({ key, value })),
  };
  const type = onnxModelType();
  return type.encode(type.fromObject(model)).finish();
}
