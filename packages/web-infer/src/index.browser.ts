// Browser entry of @ebmjs/web-infer: onnxruntime-web (webgpu, wasm); no Node built-ins.
export { cosineEnergy, cosineSimilarity, l2Normalize } from './cosine.js';
export type { Device, DeviceAttempt, DeviceOption, RuntimeName } from './devices.js';
export { EmbeddingIndex } from './embedding-index.browser.js';
export type { EmbeddingIndexOptions, SearchHit } from './embedding-index.js';
export {
  EbmError,
  type EbmErrorCode,
  isEbmError,
  isWebInferError,
  WebInferError,
  type WebInferErrorCode,
} from './errors.js';
export {
  type BrowserImageInput,
  type BrowserModelSource,
  FeatureExtractor,
} from './feature-extractor.browser.js';
export type {
  ExtractOptions,
  FeatureExtractorOptions,
  RawValues,
  TensorInput,
} from './feature-extractor.js';
export {
  type KServeInferRequest,
  type KServeInferResponse,
  type KServeModelMetadata,
  type KServeTensor,
  type KServeTensorMetadata,
  kserveDatatype,
} from './kserve.js';
export {
  EBMJS_METADATA_KEYS,
  type ImageGeometry,
  type InputLayout,
  METADATA_KEYS,
  type ModelInfo,
  type Preprocessing,
  readModelInfo,
} from './metadata.js';
export { toNpy } from './npy.js';
export type { PixelData } from './preprocess.js';
export { RemoteFeatureExtractor } from './remote-extractor.browser.js';
export type { RemoteFeatureExtractorOptions } from './remote-extractor.js';
export { configureRuntime, type RuntimeConfig } from './runtime-config.js';
