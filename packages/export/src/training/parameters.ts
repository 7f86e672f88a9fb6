import type { LayerVariable, layers } from '@tensorflow/tfjs-layers';
import { ConversionContext } from '../context.js';
import { exportError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';

/** Where a graph weight comes from, and how its ONNX layout maps back to the tfjs variable's. */
export interface ParameterSource {
  layer: layers.Layer;
  variable: LayerVariable;
  /** Axis order taking the tfjs tensor to the ONNX one (identity for most weights). */
  perm: number[] | undefined;
}

/**
 * The exporter's weight keys and the transposes they apply to a rank-4 or rank-2 kernel (see
 * layers/conv2d.ts, dense.ts); biases (rank 1) under the same keys are stored as they are.
 * A depthwise kernel [kh, kw, C, 1] → [C, 1, kh, kw] is that transpose only for a depth
 * multiplier of 1 (a larger one also merges two axes).
 */
const LAYOUTS: Record<string, number[] | undefined> = {
  conv: [3, 2, 0, 1],
  pointwise: [3, 2, 0, 1],
  depthwise: [2, 3, 0, 1],
  'dense/out_in': [1, 0],
  dense: undefined,
  bn: undefined,
};

/**
 * The exporter's conversion context, remembering which tfjs variable each weight initializer
 * holds, so the training graph can take those weights as inputs and write them back.
 */
export class TrainingConversionContext extends ConversionContext<ResolvedOptions> {
  readonly sources = new Map<string, ParameterSource>();
  /**
   * Read by the Flatten converter: no Transpose-into-weight folding (it would train a permuted
   * copy of a Dense kernel that maps back to no tfjs variable); the graph keeps that Transpose.
   */
  readonly keepsWeightLayouts = true;

  override async weight(
    layer: layers.Layer,
    variable: LayerVariable,
    key: string,
    transform?: Parameters<ConversionContext['weight']>[3],
  ): Promise<string> {
    const multiplier = key === 'depthwise' ? variable.shape[3] : 1;
    if (!(key in LAYOUTS) || multiplier !== 1) {
      throw exportError(
        'UNSUPPORTED',
        `training: layer "${layer.name}" (${layer.getClassName()}) has a weight layout ("${key}"${multiplier !== 1 ? `, depth multiplier ${multiplier}` : ''}) the training graph cannot map back to tfjs; supported: Conv2D, DepthwiseConv2D and SeparableConv2D (depth multiplier 1), Dense, BatchNormalization.`,
        { layerName: layer.name, className: layer.getClassName() },
      );
    }
    const name = await super.weight(layer, variable, key, transform);
    const perm = LAYOUTS[key];
    this.sources.set(name, {
      layer,
      variable,
      perm: perm !== undefined && perm.length === variable.shape.length ? perm : undefined,
    });
    return name;
  }
}
