// Small versions of @ebmjs/models' convEncoder and ResNet-18 (CIFAR stem), built with
// tfjs-layers here because core cannot depend on models.
import * as tfl from '@tensorflow/tfjs-layers';

const bn = (name: string) =>
  tfl.layers.batchNormalization({ axis: -1, momentum: 0.99, epsilon: 1e-3, name });
const relu = (name: string) => tfl.layers.activation({ activation: 'relu', name });
const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
  layer.apply(x) as tfl.SymbolicTensor;

/** Conv3×3-BN-ReLU blocks with 'same' 2×2 max-pools between them, then global average pooling. */
export function tinyConvNet(
  inputShape: number[],
  channels: number[],
  seed: number,
): tfl.LayersModel {
  const input = tfl.input({ shape: inputShape });
  let x = input;
  channels.forEach((filters, i) => {
    if (i > 0) x = apply(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }), x);
    x = apply(
      tfl.layers.conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tfl.initializers.heNormal({ seed: seed + i }),
      }),
      x,
    );
    x = apply(relu(`relu${i}`), apply(bn(`bn${i}`), x));
  });
  x = apply(tfl.layers.globalAveragePooling2d({}), x);
  return tfl.model({ inputs: input, outputs: x });
}

/** ResNet-18 with the CIFAR stem (3×3 stride-1 conv, no max-pool), 4 stages of 2 BasicBlocks. */
export function tinyResNet18(inputShape: number[], width: number, seed: number): tfl.LayersModel {
  let k = seed;
  const conv = (x: tfl.SymbolicTensor, filters: number, size: number, strides: number) =>
    apply(
      tfl.layers.conv2d({
        filters,
        kernelSize: size,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: tfl.initializers.heNormal({ seed: k++ }),
      }),
      x,
    );
  const input = tfl.input({ shape: inputShape });
  let x = apply(relu('stem_relu'), apply(bn('stem_bn'), conv(input, width, 3, 1)));
  let channels = width;
  [2, 2, 2, 2].forEach((blocks, stage) => {
    const filters = width * 2 ** stage;
    for (let b = 0; b < blocks; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const p = `s${stage}b${b}`;
      let y = apply(relu(`${p}_relu1`), apply(bn(`${p}_bn1`), conv(x, filters, 3, stride)));
      y = apply(bn(`${p}_bn2`), conv(y, filters, 3, 1));
      let shortcut = x;
      if (stride !== 1 || channels !== filters) {
        shortcut = apply(bn(`${p}_down_bn`), conv(x, filters, 1, stride));
      }
      x = apply(relu(`${p}_relu2`), apply(tfl.layers.add({}), [y, shortcut]));
      channels = filters;
    }
  });
  x = apply(tfl.layers.globalAveragePooling2d({}), x);
  return tfl.model({ inputs: input, outputs: x });
}
