// Node entry of @ebmjs/web-infer: onnxruntime-node (cpu, cuda), onnxruntime-web (wasm), sharp.
export { cosineEnergy, cosineSimilarity, l2Normalize } from './cosine.js';
export type { Device, DeviceAttempt, DeviceOption, RuntimeName } from './devices.js';
export {
  collectImageFiles,
  type EmbeddedFile,
  type EmbedFilesOptions,
  type EmbedFilesResult,
  embedFiles,
  IMAGE_EXTENSIONS,
  writeEmbeddings,
} from './embed-files.js';
export type { EmbeddingIndexOptions, SearchHit } from './embedding-index.js';
export { EmbeddingIndex } from './embedding-index.node.js';
export {
  EbmError,
  type EbmErrorCode,
  isEbmError,
  isWebInferError,
  WebInferError,
  type WebInferErrorCode,
} from './errors.js';
export type {
  ExtractOptions,
  FeatureExtractorOptions,
  RawValues,
  TensorInput,
} from './feature-extractor.js';
export {
  FeatureExtractor,
  type NodeImageInput,
  type NodeModelSource,
} from './feature-extractor.node.js';
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
export type { RemoteFeatureExtractorOptions } from './remote-extractor.js';
export { RemoteFeatureExtractor } from './remote-extractor.node.js';
export { configureRuntime, type RuntimeConfig } from './runtime-config.js';
