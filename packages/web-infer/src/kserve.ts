// The KServe v2 inference protocol (the one Triton Inference Server speaks), as JSON over HTTP:
// https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/ . Shared by the
// remote client here and by @ebmjs/serve, so both read and write the same shapes.
import { EbmError } from './errors.js';
import { ONNX_FLOAT, type OnnxModelSummary, type OnnxValueInfo } from './onnx-model.js';

/** A tensor's description in model metadata; -1 marks a dynamic dimension. */
export interface KServeTensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** GET /v2/models/<name>. ebm.js servers add the model's ebm.js metadata_props as `parameters`. */
export interface KServeModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: KServeTensorMetadata[];
  outputs: KServeTensorMetadata[];
  parameters?: Record<string, unknown>;
}

/** One tensor of an infer request or response; `data` is flat, row-major. */
export interface KServeTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
  parameters?: Record<string, unknown>;
}

export interface KServeInferRequest {
  id?: string;
  inputs: KServeTensor[];
  outputs?: { name: string }[];
  parameters?: Record<string, unknown>;
}

export interface KServeInferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: KServeTensor[];
}

/** KServe v2 datatypes and the ONNX TensorProto types they name. */
const DATATYPES: Record<string, number> = {
  BOOL: 9,
  UINT8: 2,
  UINT16: 4,
  UINT32: 12,
  UINT64: 13,
  INT8: 3,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  FP16: 10,
  FP32: ONNX_FLOAT,
  FP64: 11,
  BYTES: 8,
  BF16: 16,
};

/** The KServe datatype of an ONNX element type (FP32 for float32). */
export function kserveDatatype(elemType: number): string {
  return Object.entries(DATATYPES).find(([, t]) => t === elemType)?.[0] ?? `TYPE_${elemType}`;
}

function valueInfo(t: KServeTensorMetadata, where: string): OnnxValueInfo {
  if (typeof t?.name !== 'string' || !Array.isArray(t.shape) || typeof t.datatype !== 'string') {
    throw new EbmError(
      'CORRUPT_FILE',
      `${where}: expected { name, datatype, shape } in the model metadata, received ${JSON.stringify(t)}.`,
    );
  }
  return {
    name: t.name,
    elemType: DATATYPES[t.datatype.toUpperCase()] ?? 0,
    dims: t.shape.map((d) => (typeof d === 'number' && d > 0 ? d : null)),
  };
}

/**
 * KServe model metadata (plus the ebm.js metadata a server reports) as the summary web-infer
 * resolves an ONNX file into, so a remote model gets exactly the ModelInfo the file would give.
 */
export function summaryFromKServe(
  meta: KServeModelMetadata,
  metadata: Record<string, string>,
  where: string,
): OnnxModelSummary {
  if (!Array.isArray(meta?.inputs) || !Array.isArray(meta.outputs)) {
    throw new EbmError(
      'CORRUPT_FILE',
      `${where}: expected KServe v2 model metadata with "inputs" and "outputs", received ${JSON.stringify(meta)?.slice(0, 200)}.`,
    );
  }
  return {
    irVersion: 0,
    producerName: meta.platform ?? '',
    opsets: [],
    metadata,
    inputs: meta.inputs.map((t, i) => valueInfo(t, `${where} inputs[${i}]`)),
    outputs: meta.outputs.map((t, i) => valueInfo(t, `${where} outputs[${i}]`)),
  };
}

/** String-valued `ebmjs.*` entries of a parameters object (ebm.js servers, Triton configs). */
export function ebmjsParameters(parameters: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof parameters !== 'object' || parameters === null) return out;
  for (const [key, value] of Object.entries(parameters)) {
    if (!key.startsWith('ebmjs.')) continue;
    // Triton's JSON model config wraps each parameter: { "string_value": "..." }.
    const v =
      typeof value === 'object' && value !== null && 'string_value' in value
        ? (value as { string_value: unknown }).string_value
        : value;
    if (typeof v === 'string') out[key] = v;
  }
  return out;
}
