export { crc32, crc32Hex } from './crc32.js';
export { describe } from './describe.js';
export { EbmError, type EbmErrorCode, isEbmError, messageOf } from './errors.js';
export {
  type ImageLayout,
  type InputLayout,
  METADATA_KEYS,
  type MetadataKey,
  type Preprocessing,
} from './onnx-metadata.js';
export { type OptionDefaults, type ResolvedOptions, resolveOptions } from './options.js';
