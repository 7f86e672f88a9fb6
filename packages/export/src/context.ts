import type { LayerVariable, layers } from '@tensorflow/tfjs-layers';
import { exportError, unsupportedLayer } from './errors.js';
import type { GraphBuilder } from './graph-builder.js';
import type { ConversionSettings } from './settings.js';

export interface WeightData {
  data: Float32Array;
  dims: number[];
}

/**
 * State shared by the layer converters of one export: the graph being built, the options, and a
 * cache so a weight used by several calls of a shared layer becomes one initializer.
 */
export class ConversionContext<Options extends ConversionSettings = ConversionSettings> {
  readonly builder: GraphBuilder;
  readonly options: Options;
  private readonly initializers = new Map<LayerVariable, Map<string, string>>();

  constructor(builder: GraphBuilder, options: Options) {
    this.builder = builder;
    this.options = options;
  }

  /** The layer's variable whose name ends in `/suffix` (kernel, bias, gamma, moving_mean, ...). */
  variable(layer: layers.Layer, suffix: string): LayerVariable | undefined {
    return layer.weights.find(
      (w) => w.originalName.endsWith(`/${suffix}`) || w.originalName === suffix,
    );
  }

  requireVariable(layer: layers.Layer, suffix: string): LayerVariable {
    const v = this.variable(layer, suffix);
    if (v === undefined) {
      throw unsupportedLayer(
        layer.getClassName(),
        layer.name,
        `it has no "${suffix}" weight (found: ${layer.weights.map((w) => w.originalName).join(', ') || 'none'})`,
      );
    }
    return v;
  }

  /** Reads a weight as float32, refusing NaN/Infinity: a diverged model is not exported silently. */
  async read(layer: layers.Layer, variable: LayerVariable): Promise<WeightData> {
    const tensor = variable.read();
    if (tensor.dtype !== 'float32') {
      throw unsupportedLayer(
        layer.getClassName(),
        layer.name,
        `weight ${variable.name} has dtype ${tensor.dtype}`,
      );
    }
    const data = Float32Array.from((await tensor.data()) as Float32Array);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        throw exportError(
          'NON_FINITE',
          `exportOnnx: weight "${variable.name}" of layer "${layer.name}" (${layer.getClassName()}) holds ${data[i]} at index ${i}; refusing to export a model with non-finite weights.`,
          { layerName: layer.name, weight: variable.name, index: i },
        );
      }
    }
    return { data, dims: [...tensor.shape] };
  }

  /**
   * The initializer for a weight after `transform` (e.g. a kernel transposed to ONNX's layout),
   * created once per (variable, key) however often the layer is called.
   */
  async weight(
    layer: layers.Layer,
    variable: LayerVariable,
    key: string,
    transform: (w: WeightData) => WeightData = (w) => w,
  ): Promise<string> {
    let byKey = this.initializers.get(variable);
    if (byKey === undefined) {
      byKey = new Map();
      this.initializers.set(variable, byKey);
    }
    const cached = byKey.get(key);
    if (cached !== undefined) return cached;
    const w = transform(await this.read(layer, variable));
    const name = this.builder.initializer({
      name: variable.name,
      dataType: 'float32',
      dims: w.dims,
      data: w.data,
      isWeight: true,
    });
    byKey.set(key, name);
    return name;
  }

  /** A computed parameter (not a variable), e.g. ones for a BatchNorm without `scale`. */
  parameter(name: string, data: Float32Array, dims: number[]): string {
    return this.builder.initializer({ name, dataType: 'float32', dims, data, isWeight: true });
  }
}
