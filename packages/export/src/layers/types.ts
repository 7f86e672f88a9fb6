import type { layers } from '@tensorflow/tfjs-layers';
import type { ConversionContext } from '../context.js';

/** A tfjs shape: the batch (and any unknown dimension) is null. */
export type TfShape = (number | null)[];

/** What a layer converter receives for one call of one layer. */
export interface LayerConversion {
  ctx: ConversionContext;
  layer: layers.Layer;
  /** tfjs class name, e.g. "Conv2D". */
  className: string;
  /** `layer.getConfig()`: camelCase keys as tfjs-layers writes them. */
  config: Record<string, unknown>;
  /** ONNX value names of the inputs, in tfjs's own layout (NHWC for images). */
  inputs: string[];
  inputShapes: TfShape[];
  outputShapes: TfShape[];
}

/**
 * Converts one layer call into ONNX nodes and returns the value names of its outputs, in tfjs's
 * layout. Converters emit channels-last graphs; layout-bound ops (Conv, pooling, BatchNorm) wrap
 * themselves in Transposes that the transpose-elimination pass later cancels.
 */
export type LayerConverter = (args: LayerConversion) => Promise<string[]> | string[];
