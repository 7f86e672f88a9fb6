import { EbmError, validate } from '@ebmjs/core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * What every encoder and head builder returns: the tfjs model plus its dimensions, so callers
 * wire heads (`projectionHead({ inputDim: encoder.embeddingDim })`) without reading shapes.
 * The model has exactly one named input and one output of shape [batch, embeddingDim].
 */
export interface Encoder {
  model: tfl.LayersModel;
  /** Size of the output vector. */
  embeddingDim: number;
  /** Input shape without the batch dimension; null marks a free spatial size. */
  inputShape: (number | null)[];
}

/** A head maps [batch, inputDim] features to [batch, outputDim]. */
export interface Head {
  model: tfl.LayersModel;
  inputDim: number;
  outputDim: number;
}

/**
 * Reads the `Encoder` description off any single-input, single-output model with a
 * [batch, d] output — for example one returned by `loadModel`.
 */
export function describeEncoder(model: tfl.LayersModel): Encoder {
  if (model === null || typeof model !== 'object' || !Array.isArray(model.inputs)) {
    throw new EbmError('INVALID_ARGUMENT', 'describeEncoder: model must be a tfjs LayersModel.');
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new EbmError(
      'UNSUPPORTED',
      `describeEncoder: an encoder has one input and one output, received ${model.inputs.length} and ${model.outputs.length}.`,
    );
  }
  const out = model.outputs[0]!.shape;
  const dim = out[1];
  if (out.length !== 2 || typeof dim !== 'number') {
    throw new EbmError(
      'UNSUPPORTED',
      `describeEncoder: an encoder's output must have shape [batch, d], received ${validate.shapeString(out as number[])}.`,
    );
  }
  return { model, embeddingDim: dim, inputShape: model.inputs[0]!.shape.slice(1) };
}

/** Accepts an `Encoder` or a bare model wherever an encoder is consumed. */
export function toModel(
  encoder: tfl.LayersModel | { model: tfl.LayersModel },
  what: string,
): tfl.LayersModel {
  // Check for a model first: a tfl.Sequential also has a `model` property (its inner graph).
  if (isLayersModel(encoder)) return encoder;
  const inner = (encoder as { model?: unknown } | null)?.model;
  if (isLayersModel(inner)) return inner;
  throw new EbmError(
    'INVALID_ARGUMENT',
    `${what} must be a tfjs LayersModel or an Encoder ({ model, embeddingDim }).`,
  );
}

function isLayersModel(value: unknown): value is tfl.LayersModel {
  const m = value as Partial<tfl.LayersModel> | null;
  return (
    m !== null &&
    typeof m === 'object' &&
    Array.isArray(m.inputs) &&
    Array.isArray(m.layers) &&
    typeof m.apply === 'function'
  );
}
