import { exportError } from './errors.js';
import { onnxModelType } from './onnx-proto.js';

export interface OnnxValueSummary {
  name: string;
  /** Sizes, or the symbolic name of a dynamic dimension ("batch"). */
  shape: (number | string)[];
  /** Element type, ONNX TensorProto.DataType (1 float32, 7 int64, 10 float16, ...); 0 if unset. */
  elemType: number;
}

export interface OnnxSummary {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  inputs: OnnxValueSummary[];
  outputs: OnnxValueSummary[];
  /** metadata_props as an object. */
  metadata: Record<string, string>;
  /** Node count per op type, e.g. { Conv: 20, Transpose: 1 }. */
  opCounts: Record<string, number>;
  /** Data type (ONNX enum value) of each initializer, by name. */
  initializerTypes: Record<string, number>;
}

interface DecodedDim {
  dim_value?: number | { toNumber(): number };
  dim_param?: string;
}
interface DecodedValue {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DecodedDim[] } } };
}
interface DecodedModel {
  ir_version?: unknown;
  opset_import?: { domain?: string; version?: unknown }[];
  producer_name?: string;
  producer_version?: string;
  metadata_props?: { key?: string; value?: string }[];
  graph?: {
    node?: { op_type?: string }[];
    input?: DecodedValue[];
    output?: DecodedValue[];
    initializer?: { name?: string; data_type?: number }[];
  };
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));

function values(list: DecodedValue[] | undefined): OnnxValueSummary[] {
  return (list ?? []).map((v) => ({
    name: v.name ?? '',
    shape: (v.type?.tensor_type?.shape?.dim ?? []).map((d) => d.dim_param ?? num(d.dim_value)),
    elemType: v.type?.tensor_type?.elem_type ?? 0,
  }));
}

/**
 * Decodes ONNX model bytes into a summary: IR version, opset, inputs and outputs with their
 * shapes, metadata_props and op counts. Throws EbmError CORRUPT_FILE for bytes that are not an
 * ONNX model (truncated, another format).
 */
export function inspectOnnx(bytes: Uint8Array): OnnxSummary {
  if (!(bytes instanceof Uint8Array)) {
    throw exportError('INVALID_ARGUMENT', 'inspectOnnx: bytes must be a Uint8Array.');
  }
  let decoded: DecodedModel;
  try {
    const type = onnxModelType();
    decoded = type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as DecodedModel;
  } catch (error) {
    throw exportError(
      'CORRUPT_FILE',
      `inspectOnnx: the ${bytes.byteLength} bytes are not a valid ONNX model (${(error as Error).message}).`,
      { byteLength: bytes.byteLength },
      error,
    );
  }
  const opset = decoded.opset_import?.find(
    (o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx',
  );
  if (decoded.graph === undefined || opset === undefined || num(decoded.ir_version) < 1) {
    throw exportError(
      'CORRUPT_FILE',
      `inspectOnnx: the ${bytes.byteLength} bytes decode without an ONNX graph, IR version or default opset; this is not an ONNX model.`,
      { byteLength: bytes.byteLength },
    );
  }
  const opCounts: Record<string, number> = {};
  for (const n of decoded.graph.node ?? []) {
    const op = n.op_type ?? '';
    opCounts[op] = (opCounts[op] ?? 0) + 1;
  }
  return {
    irVersion: num(decoded.ir_version),
    opset: num(opset.version),
    producerName: decoded.producer_name ?? '',
    producerVersion: decoded.producer_version ?? '',
    inputs: values(decoded.graph.input),
    outputs: values(decoded.graph.output),
    metadata: Object.fromEntries(
      (decoded.metadata_props ?? []).map((p) => [p.key ?? '', p.value ?? '']),
    ),
    opCounts,
    initializerTypes: Object.fromEntries(
      (decoded.graph.initializer ?? []).map((t) => [t.name ?? '', t.data_type ?? 0]),
    ),
  };
}

/** The metadata_props of ONNX model bytes (see METADATA_KEYS). Throws CORRUPT_FILE like inspectOnnx. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  return inspectOnnx(bytes).metadata;
}
