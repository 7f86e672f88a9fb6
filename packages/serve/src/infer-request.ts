import { EbmError } from '@ebmjs/contract';
import type { KServeInferRequest, ModelInfo } from '@ebmjs/web-infer';

/** One sample of a request, without its batch axis, ready to batch. */
export interface Sample {
  data: Float32Array;
  /** Dims without the batch axis. */
  dims: number[];
}

/** JSON schema of a KServe v2 infer request (Fastify validates it before the handler runs). */
export const INFER_SCHEMA = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string' },
    parameters: { type: 'object' },
    inputs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype', 'data'],
        properties: {
          name: { type: 'string' },
          shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
          datatype: { type: 'string' },
          parameters: { type: 'object' },
          data: { type: 'array' },
        },
      },
    },
    outputs: {
      type: 'array',
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    },
  },
} as const;

/** `data` may be nested row-major arrays (the protocol allows it); flattened and checked numeric. */
function flatNumbers(data: unknown[], size: number): Float32Array {
  const flat = data.some(Array.isArray) ? (data.flat(Number.POSITIVE_INFINITY) as unknown[]) : data;
  if (flat.length !== size) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `inputs[0]: shape needs ${size} values, received ${flat.length}.`,
      { expected: size, received: flat.length },
    );
  }
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = flat[i];
    if (typeof v !== 'number') {
      throw new EbmError(
        'INVALID_DTYPE',
        `inputs[0]: data[${i}] must be a number (FP32), received ${JSON.stringify(v)}.`,
        { index: i },
      );
    }
    out[i] = v;
  }
  return out;
}

/**
 * Checks an infer request against the model (one FP32 input of its name and shape, data of the
 * right length) and splits it into samples. Every mismatch is an EbmError naming what the model
 * expects and what came.
 */
export function inferSamples(body: KServeInferRequest, info: ModelInfo): Sample[] {
  if (body.inputs.length !== 1) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `expected 1 input ("${info.inputName}"), received ${body.inputs.length}.`,
      { expected: 1, received: body.inputs.length },
    );
  }
  const input = body.inputs[0]!;
  if (input.name !== info.inputName) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `unknown input "${input.name}"; the model's input is "${info.inputName}".`,
      { expected: info.inputName, received: input.name },
    );
  }
  if (input.datatype !== 'FP32') {
    throw new EbmError(
      'INVALID_DTYPE',
      `inputs[0] "${input.name}": expected datatype FP32, received ${input.datatype}.`,
      { expected: 'FP32', received: input.datatype },
    );
  }
  const shape = info.inputShape;
  const dims = input.shape;
  const fits =
    dims.length === shape.length &&
    dims.every((d, i) => i === 0 || shape[i] === null || shape[i] === d);
  if (!fits || dims.slice(1).some((d) => d === 0)) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `inputs[0] "${input.name}": expected shape [-1, ${shape
        .slice(1)
        .map((d) => d ?? -1)
        .join(', ')}] (${info.layout}), received [${dims.join(', ')}].`,
      { expected: shape, received: dims },
    );
  }
  for (const out of body.outputs ?? []) {
    if (out.name !== info.outputName) {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `unknown output "${out.name}"; the model's output is "${info.outputName}".`,
        { expected: info.outputName, received: out.name },
      );
    }
  }
  const size = dims.reduce((a, b) => a * b, 1);
  const data = flatNumbers(input.data as unknown[], size);
  const n = dims[0]!;
  const per = n === 0 ? 0 : size / n;
  return Array.from({ length: n }, (_, i) => ({
    data: data.subarray(i * per, (i + 1) * per),
    dims: dims.slice(1),
  }));
}
