import {
  activationLayer,
  eluLayer,
  leakyReluLayer,
  preluLayer,
  reluLayer,
  softmaxLayer,
  thresholdedReluLayer,
} from './activations.js';
import { batchNormalization } from './batch-norm.js';
import { conv2d } from './conv2d.js';
import { dense } from './dense.js';
import { l2NormalizeLayer } from './l2-normalize.js';
import { layerNormalization } from './layer-norm.js';
import { concatenate, mergeLayer } from './merge.js';
import { zeroPadding2d } from './padding.js';
import { globalPooling, pooling2d } from './pooling.js';
import { rescaling } from './rescaling.js';
import { flatten, identity, permute, reshape } from './reshape.js';
import type { LayerConverter } from './types.js';

/** Class names of L2-normalize layers the exporter recognises (ebm.js models and common spellings). */
export const L2_NORMALIZE_CLASSES = [
  'L2Normalize',
  'L2Normalization',
  'L2NormalizeLayer',
  'UnitNormalization',
];

/** Built-in converters by tfjs-layers class name. Nested models are handled by the traversal. */
export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  Dense: dense,
  Conv2D: conv2d,
  DepthwiseConv2D: conv2d,
  SeparableConv2D: conv2d,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Activation: activationLayer,
  ReLU: reluLayer,
  LeakyReLU: leakyReluLayer,
  ELU: eluLayer,
  PReLU: preluLayer,
  Softmax: softmaxLayer,
  ThresholdedReLU: thresholdedReluLayer,
  MaxPooling2D: pooling2d,
  AveragePooling2D: pooling2d,
  GlobalAveragePooling2D: globalPooling,
  GlobalMaxPooling2D: globalPooling,
  GlobalAveragePooling1D: globalPooling,
  GlobalMaxPooling1D: globalPooling,
  Add: mergeLayer,
  Subtract: mergeLayer,
  Multiply: mergeLayer,
  Average: mergeLayer,
  Maximum: mergeLayer,
  Minimum: mergeLayer,
  Concatenate: concatenate,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  ZeroPadding2D: zeroPadding2d,
  Rescaling: rescaling,
  Dropout: identity,
  SpatialDropout1D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  ...Object.fromEntries(L2_NORMALIZE_CLASSES.map((c) => [c, l2NormalizeLayer])),
};

/** The class names exportOnnx converts (for docs and error messages). */
export function supportedLayerClasses(): string[] {
  return [
    ...Object.keys(LAYER_CONVERTERS),
    'InputLayer',
    'Sequential',
    'Functional',
    'Model',
  ].sort();
}
