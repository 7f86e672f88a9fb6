import { resolveOptions } from '@ebmjs/contract';
import { EbmError, Rng, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { layerName, positiveInt, positiveIntList, seed, unitInterval } from './checks.js';
import { type Encoder, toModel } from './encoder.js';
import { SeededInitializers } from './initializers.js';
import { applyTo, relu } from './layer-helpers.js';
import { mlpEncoder } from './mlp-encoder.js';
import { loadBundle, type SaveTarget, StateReader, saveBundle } from './persistence.js';

/** Gaussian: x̃ = x + σ·ε. Mask: each entry is zeroed with probability `rate`. */
export type DaeNoise = { type: 'gaussian'; std: number } | { type: 'mask'; rate: number };

export interface DenoisingAutoencoderOptions {
  encoder: tfl.LayersModel | Encoder;
  /** Maps the encoder's output back to the encoder's input shape. */
  decoder: tfl.LayersModel;
  /** Default { type: 'gaussian', std: 0.3 }. */
  noise?: DaeNoise;
  /** Seeds the default corruption stream. Default 0. */
  seed?: number;
}

export interface MlpDaeOptions {
  inputDim: number;
  /** Encoder hidden widths; the decoder mirrors them. Default [256]. */
  hiddenUnits?: number[];
  /** Default 32. */
  latentDim?: number;
  /** 'sigmoid' for data in [0, 1], 'linear' otherwise. Default 'linear'. */
  outputActivation?: 'linear' | 'sigmoid';
  noise?: DaeNoise;
  /** Seeds the initializers and the corruption stream. Default 0. */
  seed?: number;
  /** Prefix of both models' names. Default 'dae'. */
  name?: string;
}

/**
 * A denoising autoencoder as an energy model (LeCun's lecture, week 8): trained to map a
 * corrupted x̃ back to x, its reconstruction error E(x) = ‖x − D(E(x))‖² is low on the data
 * manifold and grows roughly quadratically with the distance from it.
 */
export class DenoisingAutoencoder {
  readonly encoder: tfl.LayersModel;
  readonly decoder: tfl.LayersModel;
  readonly noise: DaeNoise;
  private rng: Rng;

  constructor(options: DenoisingAutoencoderOptions) {
    const where = 'DenoisingAutoencoder';
    const o = resolveOptions(where, options, {
      encoder: undefined,
      decoder: undefined,
      noise: { type: 'gaussian', std: 0.3 },
      seed: 0,
    });
    this.encoder = toModel(o.encoder, `${where}: encoder`);
    this.decoder = toModel(o.decoder, `${where}: decoder`);
    this.noise = checkNoise(o.noise, `${where}: noise`);
    this.rng = new Rng(seed(o.seed, `${where}: seed`));
    const single = (m: tfl.LayersModel) => m.inputs.length === 1 && m.outputs.length === 1;
    if (!single(this.encoder) || !single(this.decoder)) {
      throw new EbmError(
        'UNSUPPORTED',
        `${where}: encoder and decoder must each have one input and one output.`,
      );
    }
    const code = this.encoder.outputs[0]!.shape.slice(1);
    const decIn = this.decoder.inputs[0]!.shape.slice(1);
    const dataIn = this.encoder.inputs[0]!.shape.slice(1);
    const decOut = this.decoder.outputs[0]!.shape.slice(1);
    if (!shapesFit(code, decIn) || !shapesFit(dataIn, decOut)) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${where}: the decoder must map the encoder's output [${code.join(', ')}] back to its input ` +
          `[${dataIn.join(', ')}], it maps [${decIn.join(', ')}] to [${decOut.join(', ')}].`,
      );
    }
  }

  /** An MLP autoencoder: Dense-ReLU encoder to `latentDim`, mirrored decoder. */
  static mlp(options: MlpDaeOptions): DenoisingAutoencoder {
    const where = 'DenoisingAutoencoder.mlp';
    const o = resolveOptions(where, options, {
      inputDim: undefined,
      hiddenUnits: [256],
      latentDim: 32,
      outputActivation: 'linear',
      noise: undefined,
      seed: 0,
      name: 'dae',
    });
    const inputDim = positiveInt(o.inputDim, `${where}: inputDim`);
    const hidden = positiveIntList(o.hiddenUnits, `${where}: hiddenUnits`, {
      allowEmpty: true,
    });
    const latentDim = positiveInt(o.latentDim, `${where}: latentDim`);
    const outAct = o.outputActivation;
    if (outAct !== 'linear' && outAct !== 'sigmoid') {
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: outputActivation must be 'linear' or 'sigmoid', received ${String(outAct)}.`,
      );
    }
    const s = seed(o.seed, `${where}: seed`);
    const name = layerName(o.name, `${where}: name`);
    const encoder = mlpEncoder({
      inputShape: [inputDim],
      hiddenUnits: hidden,
      embeddingDim: latentDim,
      seed: s,
      name: `${name}_encoder`,
      outputName: `${name}_code`,
    }).model;
    const init = new SeededInitializers(s + 1);
    const input = tfl.input({ shape: [latentDim], name: `${name}_code_in` });
    let x = input;
    [...hidden].reverse().forEach((units, i) => {
      const p = `${name}_decoder_dense${i + 1}`;
      x = applyTo(
        relu(`${p}_relu`),
        applyTo(tfl.layers.dense({ units, kernelInitializer: init.he(), name: p }), x),
      );
    });
    x = applyTo(
      tfl.layers.dense({
        units: inputDim,
        kernelInitializer: init.glorot(),
        name: `${name}_decoder_out`,
      }),
      x,
    );
    if (outAct === 'sigmoid')
      x = applyTo(
        tfl.layers.activation({ activation: 'sigmoid', name: `${name}_reconstruction` }),
        x,
      );
    const decoder = tfl.model({ inputs: input, outputs: x, name: `${name}_decoder` });
    return new DenoisingAutoencoder({
      encoder,
      decoder,
      ...(o.noise ? { noise: o.noise } : {}),
      seed: s,
    });
  }

  /** x̃ from x under the configured noise; seeded, or the next seed of the stream. */
  corrupt(x: tf.Tensor, seed?: number): tf.Tensor {
    validate.assertFloatTensor(x, [2, 3, 4], 'DenoisingAutoencoder.corrupt: x');
    return this.corruptUnchecked(x, seed ?? this.rng.seed());
  }

  /** D(E(x)). */
  reconstruct(x: tf.Tensor, training = false): tf.Tensor {
    this.checkInput(x, 'DenoisingAutoencoder.reconstruct: x');
    return tf.tidy(
      () => this.decoder.apply(this.encoder.apply(x, { training }), { training }) as tf.Tensor,
    );
  }

  /** E(x) = ‖x − D(E(x))‖², summed over all but the batch axis → [n]. */
  energy(x: tf.Tensor): tf.Tensor1D {
    this.checkInput(x, 'DenoisingAutoencoder.energy: x');
    return tf.tidy(() =>
      squaredError(x, this.decoder.apply(this.encoder.apply(x), {}) as tf.Tensor),
    );
  }

  /** The training loss: mean over the batch of ‖x − D(E(x̃))‖², BatchNorm in training mode. */
  loss(x: tf.Tensor, seed?: number): tf.Scalar {
    this.checkInput(x, 'DenoisingAutoencoder.loss: x');
    const s = seed ?? this.rng.seed();
    return tf.tidy(() => {
      const noisy = this.corruptUnchecked(x, s);
      const r = this.decoder.apply(this.encoder.apply(noisy, { training: true }), {
        training: true,
      }) as tf.Tensor;
      return tf.mean(squaredError(x, r)) as tf.Scalar;
    });
  }

  /** The encoder's and decoder's trainable variables (for `optimizer.minimize(f, false, vars)`). */
  get trainableVariables(): tf.Variable[] {
    return [...this.encoder.trainableWeights, ...this.decoder.trainableWeights].map(
      (w) => w.read() as tf.Variable,
    );
  }

  async save(target: SaveTarget): Promise<void> {
    await saveBundle(target, 'denoising-autoencoder', {
      state: { noise: this.noise, rngState: this.rng.stateValue },
      models: { encoder: this.encoder, decoder: this.decoder },
    });
  }

  static async load(target: SaveTarget): Promise<DenoisingAutoencoder> {
    const bundle = await loadBundle(target, 'denoising-autoencoder', {
      models: ['encoder', 'decoder'],
    });
    try {
      const s = new StateReader(bundle.state, bundle.where);
      const rngState = s.int('rngState', { min: 0, max: 2 ** 32 - 1 });
      let noise: DaeNoise;
      try {
        noise = checkNoise(bundle.state['noise'], 'noise');
      } catch (error) {
        throw new EbmError(
          'CORRUPT_FILE',
          `${bundle.where}: invalid noise setting: ${(error as Error).message}`,
        );
      }
      const dae = new DenoisingAutoencoder({
        encoder: bundle.models['encoder']!,
        decoder: bundle.models['decoder']!,
        noise,
      });
      dae.rng = new Rng(rngState);
      return dae;
    } catch (error) {
      for (const m of Object.values(bundle.models)) m.dispose();
      throw error;
    }
  }

  dispose(): void {
    this.encoder.dispose();
    this.decoder.dispose();
  }

  private corruptUnchecked(x: tf.Tensor, s: number): tf.Tensor {
    return tf.tidy(() => {
      if (this.noise.type === 'gaussian')
        return tf.add(x, tf.randomNormal(x.shape, 0, this.noise.std, 'float32', s));
      const keep = tf.cast(
        tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', s), this.noise.rate),
        'float32',
      );
      return tf.mul(x, keep);
    });
  }

  private checkInput(x: unknown, what: string): asserts x is tf.Tensor {
    const shape = this.encoder.inputs[0]!.shape;
    validate.assertFloatTensor(x, shape.length, what);
    if (!shapesFit(shape.slice(1), x.shape.slice(1))) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${what} must have shape [n, ${shape.slice(1).join(', ')}], received ${validate.shapeString(x.shape)}.`,
        { expected: shape, received: x.shape },
      );
    }
  }
}

function squaredError(x: tf.Tensor, r: tf.Tensor): tf.Tensor1D {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
  return tf.sum(tf.square(tf.sub(x, r)), axes) as tf.Tensor1D;
}

function shapesFit(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === null || b[i] === null || d === b[i]);
}

function checkNoise(noise: unknown, what: string): DaeNoise {
  const n = noise as Partial<{ type: string; std: number; rate: number }> | null;
  if (n !== null && typeof n === 'object' && n.type === 'gaussian') {
    validate.assertNumber(n.std, `${what}.std`, { min: 0 });
    return { type: 'gaussian', std: n.std };
  }
  if (n !== null && typeof n === 'object' && n.type === 'mask') {
    return { type: 'mask', rate: unitInterval(n.rate, `${what}.rate`) };
  }
  throw new EbmError(
    'INVALID_ARGUMENT',
    `${what} must be { type: 'gaussian', std } or { type: 'mask', rate }, received ${JSON.stringify(noise)}.`,
  );
}
