import { crc32Hex } from '@ebmjs/contract';
import { EbmError } from '@ebmjs/core';
import { convEncoder, type Encoder } from '@ebmjs/models';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageDataset } from '../datasets/dataset.js';

/** The tf.Variables behind the trainable weights of some models, in a stable order. */
export function trainableVariables(...models: tfl.LayersModel[]): tf.Variable[] {
  const seen = new Set<string>();
  const out: tf.Variable[] = [];
  for (const model of models) {
    for (const w of model.trainableWeights) {
      const v = w.read() as tf.Variable;
      if (!seen.has(v.name)) {
        seen.add(v.name);
        out.push(v);
      }
    }
  }
  return out;
}

/** The encoder a recipe trains: the caller's, or the default ConvNet for the dataset's images. */
export function encoderFor(
  dataset: ImageDataset,
  encoder: Encoder | undefined,
  seed: number,
  recipe: string,
): Encoder {
  if (encoder) {
    const [h, w, c] = dataset.imageShape;
    const shape = encoder.inputShape;
    if (
      (shape[0] !== null && shape[0] !== h) ||
      (shape[1] !== null && shape[1] !== w) ||
      shape[2] !== c
    ) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `${recipe}: the encoder takes images of shape [${shape.join(', ')}], the dataset has [${h}, ${w}, ${c}].`,
      );
    }
    return encoder;
  }
  return convEncoder({ inputShape: [...dataset.imageShape], seed });
}

/** Checks the dataset object a recipe receives. */
export function assertImageDataset(
  dataset: ImageDataset | undefined,
  recipe: string,
): asserts dataset is ImageDataset {
  if (
    !dataset ||
    !(dataset.pixels instanceof Uint8Array) ||
    !(dataset.labels instanceof Int32Array) ||
    !Array.isArray(dataset.imageShape)
  ) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${recipe}: config.dataset must be an ImageDataset (from loadMnist, loadFashionMnist or imageFolder).`,
    );
  }
}

/** Layer settings that do not change a resumed run (names, initial weights). */
const IRRELEVANT = /^(name|.*[Ii]nitializer|trainable|batchInputShape|dtype)$/;

/**
 * The architecture of some models for a resume fingerprint: their layers, each layer's settings
 * (names and initializers left out) and weight shapes, as layer and parameter counts and a
 * CRC-32 of the whole description, e.g. "7 layers, 1234 parameters, crc32 0a1b2c3d".
 */
export function modelFingerprint(...models: tfl.LayersModel[]): string {
  let layers = 0;
  let parameters = 0;
  const parts: unknown[] = [];
  for (const model of models) {
    for (const layer of model.layers) {
      layers++;
      const config: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(layer.getConfig()))
        if (!IRRELEVANT.test(k)) config[k] = v;
      const shapes = layer.weights.map((w) => w.shape);
      for (const shape of shapes) parameters += shape.reduce<number>((a, b) => a * (b ?? 1), 1);
      parts.push([layer.getClassName(), config, shapes]);
    }
  }
  const crc = crc32Hex(new TextEncoder().encode(JSON.stringify(parts)));
  return `${layers} layers, ${parameters} parameters, crc32 ${crc}`;
}

/**
 * An augmentation for a resume fingerprint: the preset's name when the recipe chose it,
 * 'custom' for one the caller passed (a function cannot be compared beyond that).
 */
export function augmentationFingerprint(given: unknown, preset: string): string {
  return given === undefined ? `preset ${preset}` : 'custom';
}
