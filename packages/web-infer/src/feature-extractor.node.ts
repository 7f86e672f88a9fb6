import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeNodeImage } from './decode-node.js';
import { nodeDevices } from './devices-node.js';
import { EbmError, messageOf } from './errors.js';
import {
  BaseFeatureExtractor,
  type ExtractorPlatform,
  type FeatureExtractorOptions,
} from './feature-extractor.js';
import { badSource, bytesFromObject, fetchBytes } from './model-source.js';
import type { PixelData } from './preprocess.js';
import { processRuntime } from './runtime-config.js';

/** Node image inputs: a file path, a file:/http(s): URL, encoded bytes (Buffer, Uint8Array, ArrayBuffer, Blob) or decoded pixels. */
export type NodeImageInput = string | URL | Uint8Array | ArrayBuffer | Blob | PixelData;

/** A model: a file path, a file:/http(s): URL, bytes, a fetch Response or a Blob. */
export type NodeModelSource = string | URL | Uint8Array | ArrayBuffer | Response | Blob;

async function readModel(source: unknown): Promise<{ bytes: Uint8Array; name: string }> {
  const fromObject = await bytesFromObject(source, 'model');
  if (fromObject !== undefined) return fromObject;
  if (typeof source === 'string' || source instanceof URL) {
    const text = String(source);
    if (source instanceof URL || /^(https?|file):\/\//i.test(text)) {
      const url = new URL(text);
      if (url.protocol !== 'file:') return { bytes: await fetchBytes(url.href), name: url.href };
      return readModelFile(fileURLToPath(url));
    }
    return readModelFile(text);
  }
  throw badSource(
    'FeatureExtractor.create',
    source,
    'a model file path, URL, bytes (Uint8Array/ArrayBuffer), a fetch Response or a Blob',
  );
}

async function readModelFile(path: string): Promise<{ bytes: Uint8Array; name: string }> {
  try {
    return { bytes: await readFile(path), name: path };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EbmError(
      'IO',
      `Cannot read model file "${path}"${code === 'ENOENT' ? ' (no such file)' : ''}: ${messageOf(error)}`,
      { path, errno: code },
      { cause: error },
    );
  }
}

const nodePlatform: ExtractorPlatform<NodeImageInput> = {
  devices: nodeDevices,
  runtime: processRuntime,
  readModel,
  decode: decodeNodeImage,
};

/**
 * Feature extraction in Node: onnxruntime-node (cpu, cuda) or onnxruntime-web's wasm build;
 * images decoded with sharp.
 */
export class FeatureExtractor extends BaseFeatureExtractor<NodeImageInput> {
  /** Loads `source`, reads its ebm.js metadata and starts a session on `options.device`. */
  static async create(
    source: NodeModelSource,
    options: FeatureExtractorOptions = {},
  ): Promise<FeatureExtractor> {
    return new FeatureExtractor(await BaseFeatureExtractor.open(nodePlatform, source, options));
  }
}
