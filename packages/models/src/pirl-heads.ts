import { resolveOptions } from '@ebmjs/contract';
import { EbmError, validate } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { bool, inputShape, layerName, positiveInt, seed } from './checks.js';
import { type Encoder, toModel } from './encoder.js';
import { SeededInitializers } from './initializers.js';
import { L2Normalize } from './l2-normalize-layer.js';
import { applyTo } from './layer-helpers.js';
import { loadBundle, type SaveTarget, saveBundle } from './persistence.js';

export interface PirlHeadsOptions {
  /** The shared trunk: one input [h, w, c] (null sizes allowed), one output [batch, d]. */
  encoder: tfl.LayersModel | Encoder;
  /** Shape of the whole image fed to f. Default: the encoder's input shape. */
  imageShape?: number[];
  /** Shape of one jigsaw patch fed to g. Default: imageShape. */
  patchShape?: number[];
  /** Number of patches (a 3×3 jigsaw has 9). Default 9. */
  numPatches?: number;
  /** Size of f's and g's outputs. Default 128. */
  projectionDim?: number;
  /** Size each patch embedding is projected to before concatenation. Default projectionDim. */
  patchDim?: number;
  /** L2-normalise f's and g's outputs (custom layer `L2Normalize`). Default false. */
  l2Normalize?: boolean;
  /** Default 0. */
  seed?: number;
  /** Layer-name prefix. Default 'pirl'. */
  name?: string;
}

/**
 * PIRL's two heads over one shared encoder (Misra & van der Maaten 2020):
 * f(I) = Dense(encoder(I)); g(patches) = Dense(concat_i Dense_patch(encoder(patch_i))).
 * The encoder model and the patch Dense are shared layers, so a gradient through f or g
 * trains the same trunk. `joint` holds both (inputs `image`, `patch_0` … `patch_8`; outputs f, g)
 * and is what is saved; `f` and `g` are views of it that share every layer.
 */
export class PirlHeads {
  readonly joint: tfl.LayersModel;
  /** `image` → [batch, projectionDim]. */
  readonly f: tfl.LayersModel;
  /** `patch_0` … `patch_{numPatches−1}` → [batch, projectionDim]. */
  readonly g: tfl.LayersModel;
  readonly encoder: tfl.LayersModel;
  readonly projectionDim: number;
  readonly numPatches: number;

  private constructor(joint: tfl.LayersModel, encoder: tfl.LayersModel) {
    this.joint = joint;
    this.encoder = encoder;
    const [image, ...patches] = joint.inputs;
    const [fOut, gOut] = joint.outputs;
    this.f = tfl.model({ inputs: image!, outputs: fOut!, name: `${joint.name}_f_model` });
    this.g = tfl.model({ inputs: patches, outputs: gOut!, name: `${joint.name}_g_model` });
    this.projectionDim = fOut!.shape[1] as number;
    this.numPatches = patches.length;
  }

  static build(options: PirlHeadsOptions): PirlHeads {
    const where = 'pirlHeads';
    const o = resolveOptions(where, options, {
      encoder: undefined,
      imageShape: undefined,
      patchShape: undefined,
      numPatches: 9,
      projectionDim: 128,
      patchDim: undefined,
      l2Normalize: false,
      seed: 0,
      name: 'pirl',
    });
    const encoder = toModel(o.encoder, `${where}: encoder`);
    if (
      encoder.inputs.length !== 1 ||
      encoder.outputs.length !== 1 ||
      encoder.outputs[0]!.shape.length !== 2
    ) {
      throw new EbmError(
        'UNSUPPORTED',
        `${where}: the encoder must have one input and one [batch, d] output.`,
      );
    }
    const encShape = encoder.inputs[0]!.shape.slice(1);
    const imageShape = fitShape(o.imageShape ?? encShape, encShape, `${where}: imageShape`);
    const patchShape = fitShape(o.patchShape ?? imageShape, encShape, `${where}: patchShape`);
    const numPatches = positiveInt(o.numPatches, `${where}: numPatches`);
    const projectionDim = positiveInt(o.projectionDim, `${where}: projectionDim`);
    const patchDim = positiveInt(o.patchDim ?? projectionDim, `${where}: patchDim`);
    const normalize = bool(o.l2Normalize, `${where}: l2Normalize`);
    const init = new SeededInitializers(seed(o.seed, `${where}: seed`));
    const name = layerName(o.name, `${where}: name`);

    const head = (x: tfl.SymbolicTensor, n: string) => {
      const z = applyTo(
        tfl.layers.dense({ units: projectionDim, kernelInitializer: init.glorot(), name: n }),
        x,
      );
      return normalize ? applyTo(new L2Normalize({ name: `${n}_l2` }), z) : z;
    };
    const image = tfl.input({ shape: imageShape, name: 'image' });
    const fOut = head(applyTo(encoder, image), `${name}_f`);
    const patchDense = tfl.layers.dense({
      units: patchDim,
      kernelInitializer: init.glorot(),
      name: `${name}_g_patch`,
    });
    const patches = Array.from({ length: numPatches }, (_, i) =>
      tfl.input({ shape: patchShape, name: `patch_${i}` }),
    );
    const perPatch = patches.map((p) => applyTo(patchDense, applyTo(encoder, p)));
    const joined =
      numPatches === 1
        ? perPatch[0]!
        : applyTo(tfl.layers.concatenate({ name: `${name}_g_concat` }), perPatch);
    const gOut = head(joined, `${name}_g`);
    const joint = tfl.model({ inputs: [image, ...patches], outputs: [fOut, gOut], name });
    return new PirlHeads(joint, encoder);
  }

  /** f on a batch of images [n, h, w, c] → [n, projectionDim]. */
  applyF(images: tf.Tensor, training = false): tf.Tensor2D {
    validate.assertFloatTensor(images, 4, 'PirlHeads.applyF: images');
    return this.f.apply(images, { training }) as tf.Tensor2D;
  }

  /** g on jigsaw patches [n, numPatches, h, w, c] (or a list of numPatches [n, h, w, c]) → [n, projectionDim]. */
  applyG(patches: tf.Tensor | tf.Tensor[], training = false): tf.Tensor2D {
    const where = 'PirlHeads.applyG: patches';
    if (Array.isArray(patches)) {
      if (patches.length !== this.numPatches) {
        throw new EbmError(
          'SHAPE_MISMATCH',
          `${where} must list ${this.numPatches} tensors, received ${patches.length}.`,
        );
      }
      patches.forEach((p, i) => validate.assertFloatTensor(p, 4, `${where}[${i}]`));
      return this.g.apply(patches, { training }) as tf.Tensor2D;
    }
    validate.assertFloatTensor(patches, 5, where);
    if (patches.shape[1] !== this.numPatches) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${where} must have shape [n, ${this.numPatches}, h, w, c], received ${validate.shapeString(patches.shape)}.`,
      );
    }
    return tf.tidy(() => this.g.apply(tf.unstack(patches, 1), { training }) as tf.Tensor2D);
  }

  /** Trainable weights of the whole pair (the encoder's once). */
  get trainableWeights(): tfl.LayerVariable[] {
    return this.joint.trainableWeights;
  }

  async save(target: SaveTarget): Promise<void> {
    await saveBundle(target, 'pirl-heads', {
      state: { encoder: this.encoder.name },
      models: { joint: this.joint },
    });
  }

  static async load(target: SaveTarget): Promise<PirlHeads> {
    const {
      state: meta,
      models,
      where,
    } = await loadBundle(target, 'pirl-heads', { models: ['joint'] });
    const joint = models['joint']!;
    let encoder: tfl.LayersModel | undefined;
    try {
      encoder = joint.getLayer(String(meta['encoder'])) as unknown as tfl.LayersModel;
    } catch {
      encoder = undefined;
    }
    if (
      encoder === undefined ||
      !Array.isArray(encoder.inputs) ||
      joint.outputs.length !== 2 ||
      joint.inputs.length < 2
    ) {
      joint.dispose();
      throw new EbmError('CORRUPT_FILE', `${where}: the saved model is not a PIRL head pair.`, {
        path: where,
      });
    }
    return new PirlHeads(joint, encoder);
  }

  dispose(): void {
    this.joint.dispose();
  }
}

/** The head builder of the contract: `pirlHeads(options)` = `PirlHeads.build(options)`. */
export function pirlHeads(options: PirlHeadsOptions): PirlHeads {
  return PirlHeads.build(options);
}

function fitShape(value: unknown, encShape: (number | null)[], what: string): number[] {
  const shape = inputShape(value, what, encShape.length, { allowNull: true });
  if (shape.some((d) => d === null)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be fully specified (pass it explicitly when the encoder's input has free sizes).`,
      {
        argument: what,
      },
    );
  }
  encShape.forEach((d, i) => {
    if (d !== null && d !== shape[i]) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${what} ${validate.shapeString(shape as number[])} does not fit the encoder's input ` +
          `[${encShape.map((e) => e ?? 'null').join(', ')}].`,
        { expected: encShape, received: shape },
      );
    }
  });
  return shape as number[];
}
