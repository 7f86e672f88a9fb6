import { ops } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

export interface L2NormalizeArgs extends LayerArgs {
  /** Axis to normalise along. Default −1 (the features). */
  axis?: number;
  /** Norms below epsilon are clamped to it, so zero vectors stay zero. Default 1e-12. */
  epsilon?: number;
}

/**
 * y = x / max(‖x‖₂, epsilon) along `axis`. The only non-standard layer the models use; it is
 * registered under the stable class name `L2Normalize` so saved models load anywhere and the
 * ONNX exporter can map it (ReduceSumSquare → Max(·, ε²) → Sqrt → Div, or LpNormalization).
 */
export class L2Normalize extends tfl.layers.Layer {
  static readonly className = 'L2Normalize';
  readonly axis: number;
  readonly epsilon: number;

  constructor(args: L2NormalizeArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    this.epsilon = args.epsilon ?? 1e-12;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => ops.l2Normalize(x, this.axis, this.epsilon));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(L2Normalize);

/**
 * Registers the custom layer classes with tfjs serialisation. Runs on import too; call it
 * explicitly when a bundler may have dropped this module's side effects before loading a model.
 */
export function registerCustomLayers(): void {
  tf.serialization.registerClass(L2Normalize);
}

/** The class names of every custom layer these models may contain (for exporters). */
export const CUSTOM_LAYER_CLASS_NAMES: readonly string[] = [L2Normalize.className];
