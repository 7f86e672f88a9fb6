import type { LayersModel } from '@tensorflow/tfjs-layers';
import { exportError } from '../errors.js';
import type { GraphBuilder } from '../graph-builder.js';
import { NCHW_TO_NHWC } from '../layers/layout.js';
import { imageInputShape, type StepGraph, type StepValue } from './step-graph.js';

// What the step builders declare and check before their forward pass.

/**
 * Declares float image inputs for `encoder` (each `[rows, C, H, W]`, or `[rows, H, W, C]` under
 * 'NHWC'); `nhwc(name)` is the value the converted encoder reads (tfjs's layout).
 */
export function declareImageInputs(
  b: GraphBuilder,
  encoder: LayersModel,
  inputs: readonly { name: string; rows: number }[],
  layout: 'NCHW' | 'NHWC' | undefined,
  where: string,
): { data: StepValue[]; nhwc: (name: string) => string } {
  const [h, w, c] = imageInputShape(encoder, where);
  const nhwcInputs = layout === 'NHWC';
  const data = inputs.map(({ name, rows }) => ({
    name,
    dims: nhwcInputs ? [rows, h, w, c] : [rows, c, h, w],
  }));
  for (const d of data) {
    b.reserve(d.name);
    b.graph.inputs.push({ name: d.name, dataType: 'float32', shape: d.dims });
  }
  return {
    data,
    nhwc: (name) => (nhwcInputs ? name : b.transpose(name, NCHW_TO_NHWC, `${name}/to_nhwc`)),
  };
}

/** @experimental A step fed two views of the same B images each step (SimCLR, VICReg, BYOL…). */
export interface TwoViewStepGraph extends StepGraph {
  /** The two views fed each step ([B, C, H, W], or [B, H, W, C] under 'NHWC'), `lr` and `step`. */
  inputs: { view1: string; view2: string; lr: string; step: string };
  viewDims: number[];
}

/** Declares the inputs `view1` and `view2` of `batch` images each (see `declareImageInputs`). */
export function declareTwoViews(
  b: GraphBuilder,
  encoder: LayersModel,
  batch: number,
  layout: 'NCHW' | 'NHWC' | undefined,
  where: string,
): { inputs: TwoViewStepGraph['inputs']; data: StepValue[]; nhwc: (name: string) => string } {
  const inputs = { view1: 'view1', view2: 'view2', lr: 'lr', step: 'step' };
  const views = [inputs.view1, inputs.view2].map((name) => ({ name, rows: batch }));
  return { inputs, ...declareImageInputs(b, encoder, views, layout, where) };
}

/** The fixed output width of a head, or an UNSUPPORTED error naming `where`. */
export function outputWidth(model: LayersModel, where: string): number {
  const dim = model.outputs[0]!.shape.at(-1);
  if (typeof dim !== 'number') {
    throw exportError('UNSUPPORTED', `${where}: ${model.name} needs a fixed output size.`);
  }
  return dim;
}

/** An INVALID_ARGUMENT error unless `batch` is an integer ≥ 2. */
export function assertStepBatch(batch: number, where: string): void {
  if (!Number.isInteger(batch) || batch < 2) {
    throw exportError(
      'INVALID_ARGUMENT',
      `${where}: batchSize must be an integer ≥ 2, received ${String(batch)}.`,
    );
  }
}
