export { EbmError, type EbmErrorCode, type ImageLayout, isEbmError } from '@ebmjs/contract';
export type { WeightData } from './context.js';
export { ConversionContext } from './context.js';
export { exportOnnx } from './export-onnx.js';
export { GraphBuilder, MAX_OPSET, MIN_OPSET } from './graph-builder.js';
export {
  inspectOnnx,
  type OnnxSummary,
  type OnnxValueSummary,
  readOnnxMetadata,
} from './inspect-onnx.js';
export { type AttributeValue, attr } from './ir.js';
export { SUPPORTED_ACTIVATIONS } from './layers/activations.js';
export { L2_NORMALIZE_CLASSES, supportedLayerClasses } from './layers/registry.js';
export type { LayerConversion, LayerConverter, TfShape } from './layers/types.js';
export { METADATA_KEYS } from './metadata.js';
export type { ExportOnnxOptions, InputLayout, Preprocessing } from './options.js';
export { saveOnnx } from './save-onnx.js';
/** @experimental Training-step compilation to ONNX (issue 17, stage 1); the API may change. */
export * as experimental from './training/index.js';
export {
  type TritonDynamicBatching,
  type TritonInstanceGroup,
  type TritonInstanceKind,
  type TritonRepositoryOptions,
  type TritonRepositoryResult,
  tritonConfig,
  writeTritonRepository,
} from './triton.js';
export { EBMJS_VERSION } from './version.js';
