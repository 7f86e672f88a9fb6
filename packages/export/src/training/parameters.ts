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

/** The exporter's weight keys and the transposes they apply (see layers/conv2d.ts, dense.ts). */
const LAYOUTS: Record<string, number[] | undefined> = {
  conv: [3, 2, 0, 1],
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

  override async weight(
    layer: layers.Layer,
    variable: LayerVariable,
    key: string,
    transform?: Parameters<ConversionContext['weight']>[3],
  ): Promise<string> {
    if (!(key in LAYOUTS)) {
      throw exportError(
        'UNSUPPORTED',
        `training: layer "${layer.name}" (${layer.getClassName()}) has a weight layout ("${key}") the training graph cannot map back to tfjs; supported: Conv2D, Dense, BatchNormalization.`,
        { layerName: layer.name, className: layer.getClassName() },
      );
    }
    const name = await super.weight(layer, variable, key, transform);
    this.sources.set(name, { layer, variable, perm: LAYOUTS[key] });
    return name;
  }
}
