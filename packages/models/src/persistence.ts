import { EbmError } from '@ebmjs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readRawBundle, writeRawBundle } from './bundle.js';
import { describeEncoder, type Encoder, toModel } from './encoder.js';
import { registerCustomLayers } from './l2-normalize-layer.js';
import { resolveStorage } from './resolve-storage.js';
import type { SaveTarget } from './storage.js';

export type { SaveTarget } from './storage.js';

/** A float32 array with its shape, as stored in a save. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

export interface SaveContent {
  /** JSON-serialisable state (sizes, pointers, options). */
  state?: Record<string, unknown>;
  tensors?: Record<string, tf.Tensor | TensorData>;
  models?: Record<string, tfl.LayersModel>;
}

export interface LoadedBundle {
  /** The location, for error messages. */
  where: string;
  state: Record<string, unknown>;
  tensors: Record<string, TensorData>;
  models: Record<string, tfl.LayersModel>;
}

const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Saves tensors, LayersModels (through tfjs's in-memory artifacts: topology JSON + weight
 * bytes) and JSON state as one versioned, checksummed save of the given `kind`.
 */
export async function saveBundle(
  target: SaveTarget,
  kind: string,
  content: SaveContent,
): Promise<void> {
  const storage = await resolveStorage(target, `save ${kind}`);
  const entries: Record<string, Uint8Array> = {};
  const tensors: Record<string, { shape: number[]; dtype: 'float32' }> = {};
  for (const [name, value] of Object.entries(content.tensors ?? {})) {
    if (!NAME.test(name)) throw new Error(`internal: bad tensor name ${name}`);
    const { shape, data } =
      value instanceof tf.Tensor ? { shape: value.shape, data: await value.data() } : value;
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    entries[name] = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
    tensors[name] = { shape: [...shape], dtype: 'float32' };
  }
  const models: string[] = [];
  for (const [name, model] of Object.entries(content.models ?? {})) {
    if (!NAME.test(name) || entries[`${name}-topology`] !== undefined)
      throw new Error(`internal: bad model name ${name}`);
    const { topology, weights } = await modelToBytes(model);
    entries[`${name}-topology`] = topology;
    entries[`${name}-weights`] = weights;
    models.push(name);
  }
  await writeRawBundle(storage, {
    kind,
    meta: { state: content.state ?? {}, tensors, models },
    entries,
  });
}

/** Reads a save of `kind`, checking every file; a missing `required` tensor or model is CORRUPT_FILE. */
export async function loadBundle(
  target: SaveTarget,
  kind: string,
  required: { tensors?: string[]; models?: string[] } = {},
): Promise<LoadedBundle> {
  const storage = await resolveStorage(target, `load ${kind}`);
  const where = storage.location;
  const corrupt = (message: string) =>
    new EbmError('CORRUPT_FILE', `${where}: ${message}`, { path: where });
  const raw = await readRawBundle(storage, kind);
  const meta = raw.meta as { state?: unknown; tensors?: unknown; models?: unknown };
  if (!isRecord(meta.state) || !isRecord(meta.tensors) || !Array.isArray(meta.models)) {
    throw corrupt('the manifest lacks its state, tensors or models section.');
  }
  const tensors: Record<string, TensorData> = {};
  for (const [name, spec] of Object.entries(meta.tensors)) {
    const shape = isRecord(spec) ? spec['shape'] : undefined;
    const bytes = raw.entries[name];
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      bytes === undefined
    ) {
      throw corrupt(`tensor ${name} has no valid shape or file.`);
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (bytes.byteLength !== size * 4) {
      throw corrupt(
        `tensor ${name} has ${bytes.byteLength} bytes, its shape [${shape.join(', ')}] needs ${size * 4}.`,
      );
    }
    // Copy: the source may be an unaligned view into a larger buffer.
    tensors[name] = { shape: shape as number[], data: new Float32Array(bytes.slice().buffer) };
  }
  for (const name of required.tensors ?? []) {
    if (tensors[name] === undefined) throw corrupt(`the save has no tensor ${name}.`);
  }
  const models: Record<string, tfl.LayersModel> = {};
  try {
    for (const name of meta.models) {
      const topology = raw.entries[`${name}-topology`];
      const weights = raw.entries[`${name}-weights`];
      if (typeof name !== 'string' || topology === undefined || weights === undefined) {
        throw corrupt(`model ${String(name)} has no topology or weights file.`);
      }
      models[name] = await modelFromBytes(topology, weights, `${where} (model ${name})`);
    }
    for (const name of required.models ?? []) {
      if (models[name] === undefined) throw corrupt(`the save has no model ${name}.`);
    }
  } catch (error) {
    for (const m of Object.values(models)) m.dispose();
    throw error;
  }
  return { where, state: meta.state, tensors, models };
}

/** Saves one LayersModel (an encoder, a head, any tfjs-layers model). */
export async function saveModel(
  model: tfl.LayersModel | Encoder,
  target: SaveTarget,
): Promise<void> {
  const m = toModel(model, 'saveModel: model');
  await saveBundle(target, 'layers-model', { state: { name: m.name }, models: { model: m } });
}

export async function loadModel(target: SaveTarget): Promise<tfl.LayersModel> {
  const { models } = await loadBundle(target, 'layers-model', { models: ['model'] });
  return models['model']!;
}

/** `loadModel` + `describeEncoder`: the encoder with its embedding dimension. */
export async function loadEncoder(target: SaveTarget): Promise<Encoder> {
  const model = await loadModel(target);
  try {
    return describeEncoder(model);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

async function modelToBytes(
  model: tfl.LayersModel,
): Promise<{ topology: Uint8Array; weights: Uint8Array }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (artifacts === undefined)
    throw new EbmError('UNSUPPORTED', `Model ${model.name} produced no artifacts.`);
  const { weightData, ...rest } = artifacts;
  const json = JSON.stringify({ ...rest, weightData: undefined });
  const weights =
    weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(weightData);
  return { topology: new TextEncoder().encode(json), weights: new Uint8Array(weights) };
}

async function modelFromBytes(
  topology: Uint8Array,
  weights: Uint8Array,
  where: string,
): Promise<tfl.LayersModel> {
  registerCustomLayers();
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(topology),
    ) as tf.io.ModelArtifacts;
  } catch (error) {
    throw new EbmError(
      'CORRUPT_FILE',
      `${where}: the topology is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (
    !isRecord(artifacts) ||
    !isRecord(artifacts.modelTopology) ||
    !Array.isArray(artifacts.weightSpecs)
  ) {
    throw new EbmError(
      'CORRUPT_FILE',
      `${where}: the topology file lacks modelTopology or weightSpecs.`,
    );
  }
  artifacts.weightData = weights.slice().buffer;
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new EbmError(
      'CORRUPT_FILE',
      `${where}: tfjs could not rebuild the model: ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Typed access to a save's JSON state; anything missing or out of range is CORRUPT_FILE. */
export class StateReader {
  constructor(
    private readonly state: Record<string, unknown>,
    private readonly where: string,
  ) {}

  private fail(key: string, expected: string): never {
    throw new EbmError(
      'CORRUPT_FILE',
      `${this.where}: state.${key} must be ${expected}, found ${JSON.stringify(this.state[key])}.`,
      { path: this.where, key },
    );
  }

  number(key: string, { min = -Infinity, max = Infinity, integer = false } = {}): number {
    const v = this.state[key];
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < min ||
      v > max ||
      (integer && !Number.isInteger(v))
    ) {
      this.fail(key, `${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
    }
    return v;
  }

  int(key: string, bounds: { min?: number; max?: number } = {}): number {
    return this.number(key, { ...bounds, integer: true });
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T {
    const v = this.state[key];
    if (typeof v !== 'string' || !values.includes(v as T))
      this.fail(key, `one of ${values.join(', ')}`);
    return v as T;
  }

  string(key: string): string {
    const v = this.state[key];
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  /** The tensor `name` with exactly `shape`. */
  static tensor(bundle: LoadedBundle, name: string, shape: number[]): TensorData {
    const t = bundle.tensors[name];
    if (
      t === undefined ||
      t.shape.length !== shape.length ||
      t.shape.some((d, i) => d !== shape[i])
    ) {
      throw new EbmError(
        'CORRUPT_FILE',
        `${bundle.where}: tensor ${name} has shape [${t?.shape.join(', ') ?? 'missing'}], the state says [${shape.join(', ')}].`,
        { path: bundle.where, expected: shape, received: t?.shape },
      );
    }
    return t;
  }
}
