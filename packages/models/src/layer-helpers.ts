import * as tfl from '@tensorflow/tfjs-layers';

/**
 * BatchNorm with PyTorch's defaults (momentum 0.1 there = 0.9 here, epsilon 1e-5): Keras's 0.99
 * leaves the moving statistics stale after the few hundred steps of a demo run.
 */
export function batchNorm(name: string): tfl.layers.Layer {
  return tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name });
}

export function relu(name: string): tfl.layers.Layer {
  return tfl.layers.activation({ activation: 'relu', name });
}

/** Applies a layer to one symbolic tensor (the functional API's types return a union). */
export function applyTo(
  layer: tfl.layers.Layer,
  x: tfl.SymbolicTensor | tfl.SymbolicTensor[],
): tfl.SymbolicTensor {
  return layer.apply(x) as tfl.SymbolicTensor;
}
