import { decodeBrowserImage } from './decode-browser.js';
import { browserDevices } from './devices-browser.js';
import {
  BaseFeatureExtractor,
  type ExtractorPlatform,
  type FeatureExtractorOptions,
} from './feature-extractor.js';
import { badSource, bytesFromObject, fetchBytes } from './model-source.js';
import type { PixelData } from './preprocess.js';
import { processRuntime } from './runtime-config.js';

/** Browser image inputs: ImageData and decoded pixels, bitmaps, <img>, canvases, video, Blobs/Files, encoded bytes or URLs. */
export type BrowserImageInput =
  | ImageData
  | PixelData
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | HTMLVideoElement
  | VideoFrame
  | Blob
  | Uint8Array
  | ArrayBuffer
  | string
  | URL;

/** A model: a URL (relative to the page), bytes, a fetch Response or a Blob/File. */
export type BrowserModelSource = string | URL | Uint8Array | ArrayBuffer | Response | Blob;

async function readModel(source: unknown): Promise<{ bytes: Uint8Array; name: string }> {
  const fromObject = await bytesFromObject(source, 'model');
  if (fromObject !== undefined) return fromObject;
  if (typeof source === 'string' || source instanceof URL) {
    const url = new URL(String(source), globalThis.location?.href).href;
    return { bytes: await fetchBytes(url), name: url };
  }
  throw badSource(
    'FeatureExtractor.create',
    source,
    'a model URL, bytes (Uint8Array/ArrayBuffer), a fetch Response or a Blob',
  );
}

const browserPlatform: ExtractorPlatform<BrowserImageInput> = {
  devices: browserDevices,
  runtime: processRuntime,
  readModel,
  decode: decodeBrowserImage,
};

/** Feature extraction in the browser on onnxruntime-web: WebGPU or WebAssembly. */
export class FeatureExtractor extends BaseFeatureExtractor<BrowserImageInput> {
  /** Loads `source`, reads its ebm.js metadata and starts a session on `options.device`. */
  static async create(
    source: BrowserModelSource,
    options: FeatureExtractorOptions = {},
  ): Promise<FeatureExtractor> {
    return new FeatureExtractor(await BaseFeatureExtractor.open(browserPlatform, source, options));
  }
}
