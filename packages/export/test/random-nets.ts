import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from './helpers.js';

/**
 * Seeded generator of small random nets built only from supported layers, for property-style
 * parity tests. Image nets track (h, w, c) so every layer gets a valid input; they mix plain
 * stacks with residual, concatenation and multiplication branches and end in one of several
 * heads (global pooling, flatten + dense, or the feature map itself).
 */
const ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'tanh',
  'swish',
  'gelu',
  'gelu_new',
  'softplus',
  'mish',
  'hardSigmoid',
  'softsign',
] as const;

type Sym = tfl.SymbolicTensor;

class Gen {
  constructor(private readonly rng: Rng) {}
  int(lo: number, hi: number): number {
    return lo + this.rng.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.rng.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.rng.next() < p;
  }
}

function shapeOf(x: Sym): [number, number, number] {
  return x.shape.slice(1) as [number, number, number];
}

function imageBlock(g: Gen, x: Sym): Sym {
  const [h, w, c] = shapeOf(x);
  const act = () => g.pick(ACTIVATIONS) as 'relu';
  const small = Math.min(h, w);
  const kind = g.pick([
    'conv',
    'conv',
    'depthwise',
    'separable',
    'bn',
    'pool',
    'pad',
    'act',
    'residual',
    'concat',
    'multiply',
    'leaky',
    'prelu',
  ] as const);
  switch (kind) {
    case 'conv': {
      const k = g.int(1, Math.min(3, small));
      const strides = small >= 4 && g.chance(0.4) ? 2 : 1;
      const dilationRate = strides === 1 && k > 1 && g.chance(0.2) ? 2 : 1;
      const padding = g.chance(0.6) || (k - 1) * dilationRate + 1 > small ? 'same' : 'valid';
      return tfl.layers
        .conv2d({
          filters: g.int(2, 6),
          kernelSize: k,
          strides,
          dilationRate,
          padding,
          activation: act(),
          useBias: g.chance(0.8),
        })
        .apply(x) as Sym;
    }
    case 'depthwise': {
      const strides = small >= 4 && g.chance(0.4) ? 2 : 1;
      return tfl.layers
        .depthwiseConv2d({
          kernelSize: Math.min(3, small),
          depthMultiplier: g.int(1, 2),
          strides,
          padding: 'same',
          activation: act(),
        })
        .apply(x) as Sym;
    }
    case 'separable':
      return tfl.layers
        .separableConv2d({
          filters: g.int(2, 6),
          kernelSize: Math.min(3, small),
          padding: 'same',
          activation: act(),
        })
        .apply(x) as Sym;
    case 'bn':
      return tfl.layers.batchNormalization({ epsilon: g.pick([1e-3, 1e-5, 0.01]) }).apply(x) as Sym;
    case 'pool': {
      if (small < 2) return x;
      const layer = g.chance(0.5) ? tfl.layers.maxPooling2d : tfl.layers.averagePooling2d;
      return layer({
        poolSize: g.int(2, Math.min(3, small)),
        strides: g.int(1, 2),
        padding: g.pick(['same', 'valid'] as const),
      }).apply(x) as Sym;
    }
    case 'pad':
      return tfl.layers
        .zeroPadding2d({
          padding: [
            [g.int(0, 2), g.int(0, 2)],
            [g.int(0, 2), g.int(0, 2)],
          ],
        })
        .apply(x) as Sym;
    case 'act':
      return tfl.layers.activation({ activation: act() }).apply(x) as Sym;
    case 'leaky':
      return tfl.layers.leakyReLU({ alpha: g.pick([0.1, 0.3]) }).apply(x) as Sym;
    case 'prelu':
      return tfl.layers.prelu({ sharedAxes: [1, 2] }).apply(x) as Sym;
    case 'residual': {
      let y = tfl.layers
        .conv2d({ filters: c, kernelSize: Math.min(3, small), padding: 'same', useBias: false })
        .apply(x) as Sym;
      y = tfl.layers.batchNormalization().apply(y) as Sym;
      y = tfl.layers.add().apply([x, y]) as Sym;
      return tfl.layers.reLU().apply(y) as Sym;
    }
    case 'concat': {
      const a = tfl.layers
        .conv2d({ filters: g.int(1, 4), kernelSize: 1, activation: act() })
        .apply(x) as Sym;
      const b = tfl.layers
        .conv2d({ filters: g.int(1, 4), kernelSize: Math.min(3, small), padding: 'same' })
        .apply(x) as Sym;
      return tfl.layers.concatenate().apply([a, b, x]) as Sym;
    }
    case 'multiply': {
      const gate = tfl.layers
        .conv2d({ filters: c, kernelSize: 1, activation: 'sigmoid' })
        .apply(x) as Sym;
      return tfl.layers.multiply().apply([x, gate]) as Sym;
    }
  }
  return x;
}

function imageHead(g: Gen, x: Sym): Sym {
  const head = g.pick(['gap', 'gmp', 'flatten', 'map'] as const);
  if (head === 'map') return x;
  let y =
    head === 'gap'
      ? (tfl.layers.globalAveragePooling2d({}).apply(x) as Sym)
      : head === 'gmp'
        ? (tfl.layers.globalMaxPooling2d({}).apply(x) as Sym)
        : (tfl.layers.flatten().apply(x) as Sym);
  if (g.chance(0.7))
    y = tfl.layers
      .dense({ units: g.int(3, 8), activation: g.pick(ACTIVATIONS) as 'relu' })
      .apply(y) as Sym;
  return y;
}

export function randomImageNet(seed: number): tfl.LayersModel {
  const g = new Gen(new Rng(seed));
  const input = tfl.input({ shape: [g.int(6, 12), g.int(6, 12), g.int(1, 4)] });
  let x: Sym = input;
  const depth = g.int(2, 5);
  for (let i = 0; i < depth; i++) x = imageBlock(g, x);
  return tfl.model({ inputs: input, outputs: imageHead(g, x), name: `random_image_${seed}` });
}

export function randomVectorNet(seed: number): tfl.LayersModel {
  const g = new Gen(new Rng(seed));
  const input = tfl.input({ shape: [g.int(3, 10)] });
  let x: Sym = input;
  const depth = g.int(2, 5);
  for (let i = 0; i < depth; i++) {
    const kind = g.pick([
      'dense',
      'dense',
      'bn',
      'ln',
      'dropout',
      'residual',
      'concat',
      'leaky',
    ] as const);
    const width = x.shape[1] as number;
    if (kind === 'dense')
      x = tfl.layers
        .dense({ units: g.int(3, 10), activation: g.pick(ACTIVATIONS) as 'relu' })
        .apply(x) as Sym;
    else if (kind === 'bn') x = tfl.layers.batchNormalization().apply(x) as Sym;
    else if (kind === 'ln') x = tfl.layers.layerNormalization().apply(x) as Sym;
    else if (kind === 'dropout') x = tfl.layers.dropout({ rate: 0.3 }).apply(x) as Sym;
    else if (kind === 'leaky') x = tfl.layers.leakyReLU().apply(x) as Sym;
    else if (kind === 'residual') {
      const y = tfl.layers.dense({ units: width, activation: 'tanh' }).apply(x) as Sym;
      x = tfl.layers.add().apply([x, y]) as Sym;
    } else {
      const y = tfl.layers.dense({ units: g.int(2, 5) }).apply(x) as Sym;
      x = tfl.layers.concatenate().apply([x, y]) as Sym;
    }
  }
  return tfl.model({ inputs: input, outputs: x, name: `random_vector_${seed}` });
}
