import protobuf from 'protobufjs/light.js';
import { onnxSchema } from './generated/onnx-schema.js';

/**
 * The ONNX protobuf types, built once from the descriptor that pbjs generated from
 * schema/onnx.proto. protobufjs's reflection encoder does the wire format.
 */
let modelType: protobuf.Type | undefined;

export function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(onnxSchema).lookupType('onnx.ModelProto');
  return modelType;
}

/** ONNX TensorProto.DataType values the exporter uses. */
export const ONNX_DTYPE = { float32: 1, int64: 7, float16: 10 } as const;
