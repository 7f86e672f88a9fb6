// The benchmark's nets, built with tfjs-layers exactly as @ebmjs/models describes them, for as
// long as @ebmjs/models has no built `dist` to import (see loadNets in run.mjs).
import * as tfl from '@tensorflow/tfjs-layers';

// Keras defaults as in @ebmjs/models' layer helpers: momentum 0.99, epsilon 1e-3.
const bn = (name) =>
  tfl.layers.batchNormalization({ axis: -1, momentum: 0.99, epsilon: 1e-3, name });
const relu = (name) => tfl.layers.activation({ activation: 'relu', name });

/** convEncoder: [Conv3×3(no bias)-BN-ReLU] × 3 with a 'same' 2×2 max-pool between blocks, then GAP. */
export function convEncoder({ inputShape = [32, 32, 3], channels = [32, 64, 128], seed = 0 } = {}) {
  const input = tfl.input({ shape: inputShape, name: 'image' });
  let x = input;
  channels.forEach((filters, i) => {
    const p = `conv_encoder_block${i + 1}`;
    if (i > 0) {
      x = tfl.layers
        .maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name: `${p}_pool` })
        .apply(x);
    }
    x = tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tfl.initializers.heNormal({ seed: seed + i }),
        name: `${p}_conv`,
      })
      .apply(x);
    x = relu(`${p}_relu`).apply(bn(`${p}_bn`).apply(x));
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'embedding' }).apply(x);
  return {
    model: tfl.model({ inputs: input, outputs: x, name: 'conv_encoder' }),
    embeddingDim: channels.at(-1),
  };
}

/** ResNet-18, CIFAR stem (3×3 conv, stride 1, no max-pool), BasicBlocks [2, 2, 2, 2], then GAP. */
export function resnet18({ inputShape = [32, 32, 3], width = 64, seed = 0 } = {}) {
  let k = seed;
  const conv = (x, filters, kernelSize, strides, name) =>
    tfl.layers
      .conv2d({
        filters,
        kernelSize,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: tfl.initializers.heNormal({ seed: k++ }),
        name,
      })
      .apply(x);
  const input = tfl.input({ shape: inputShape, name: 'image' });
  let x = relu('stem_relu').apply(bn('stem_bn').apply(conv(input, width, 3, 1, 'stem_conv')));
  let channels = width;
  [2, 2, 2, 2].forEach((blocks, stage) => {
    const filters = width * 2 ** stage;
    for (let b = 0; b < blocks; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const p = `stage${stage + 1}_block${b + 1}`;
      let y = conv(x, filters, 3, stride, `${p}_conv1`);
      y = relu(`${p}_relu1`).apply(bn(`${p}_bn1`).apply(y));
      y = bn(`${p}_bn2`).apply(conv(y, filters, 3, 1, `${p}_conv2`));
      let shortcut = x;
      if (stride !== 1 || channels !== filters) {
        shortcut = bn(`${p}_down_bn`).apply(conv(x, filters, 1, stride, `${p}_down_conv`));
      }
      x = relu(`${p}_relu2`).apply(tfl.layers.add({ name: `${p}_add` }).apply([y, shortcut]));
      channels = filters;
    }
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'embedding' }).apply(x);
  return {
    model: tfl.model({ inputs: input, outputs: x, name: 'resnet18' }),
    embeddingDim: channels,
  };
}

/** SimCLR's projection head: Dense(d) → ReLU → Dense(out). */
export function projectionHead(inputDim, outputDim = 128, seed = 100) {
  return tfl.sequential({
    name: 'projection_head',
    layers: [
      tfl.layers.dense({
        inputShape: [inputDim],
        units: inputDim,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.dense({
        units: outputDim,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}
