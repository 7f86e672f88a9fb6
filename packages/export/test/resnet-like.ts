import * as tfl from '@tensorflow/tfjs-layers';

type Sym = tfl.SymbolicTensor;

/**
 * A small ResNet-style encoder built with tfjs-layers directly: conv-BN-ReLU stem, zero padding
 * and max-pool, two stages of BasicBlocks (the second strided with a 1x1 projection shortcut),
 * global average pooling and a Dense projection.
 */
export function resnetLike(
  options: { size?: number | null; width?: number; name?: string } = {},
): tfl.LayersModel {
  const { size = 16, width = 8, name = 'resnet_like' } = options;
  const conv = (x: Sym, filters: number, k: number, strides = 1) =>
    tfl.layers
      .conv2d({ filters, kernelSize: k, strides, padding: 'same', useBias: false })
      .apply(x) as Sym;
  const bn = (x: Sym) => tfl.layers.batchNormalization({ epsilon: 1e-5 }).apply(x) as Sym;
  const relu = (x: Sym) => tfl.layers.activation({ activation: 'relu' }).apply(x) as Sym;

  const input = tfl.input({ shape: [size, size, 3] });
  let x = relu(bn(conv(input, width, 3)));
  x = tfl.layers.zeroPadding2d({ padding: 1 }).apply(x) as Sym;
  x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(x) as Sym;
  let channels = width;
  for (const [filters, stride] of [
    [width, 1],
    [width, 1],
    [2 * width, 2],
    [2 * width, 1],
  ] as const) {
    let y = relu(bn(conv(x, filters, 3, stride)));
    y = bn(conv(y, filters, 3));
    const shortcut = stride !== 1 || channels !== filters ? bn(conv(x, filters, 1, stride)) : x;
    x = relu(tfl.layers.add().apply([y, shortcut]) as Sym);
    channels = filters;
  }
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as Sym;
  x = tfl.layers.dense({ units: 6 }).apply(x) as Sym;
  return tfl.model({ inputs: input, outputs: x, name });
}
