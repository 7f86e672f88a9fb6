/**
 * The ONNX metadata contract: what @ebmjs/export writes into `metadata_props` and
 * @ebmjs/web-infer (or any other reader) reads back to feed a model correctly.
 */
export const METADATA_KEYS = {
  /** ebm.js version that exported the model. */
  version: 'ebmjs.version',
  /** Training recipe (simclr, moco, pirl, ...) or "unknown". */
  recipe: 'ebmjs.recipe',
  /** JSON array of the (first) input's shape in the exported layout; null = dynamic dimension. */
  inputShape: 'ebmjs.input_shape',
  /** An InputLayout: "NHWC" or "NCHW" for image inputs, "NC" for rank 2, "other" otherwise. */
  inputLayout: 'ebmjs.input_layout',
  /** JSON number: multiply raw inputs by it first (e.g. 1/255). */
  preprocessingScale: 'ebmjs.preprocessing.scale',
  /** JSON number or per-channel array subtracted after scaling. */
  preprocessingMean: 'ebmjs.preprocessing.mean',
  /** JSON number or per-channel array divided by last. */
  preprocessingStd: 'ebmjs.preprocessing.std',
  /** Size of the last axis of the (first) output, as a decimal string, or "unknown". */
  embeddingDim: 'ebmjs.embedding_dim',
  /** "l2" when outputs are unit vectors, else "none". */
  outputNormalization: 'ebmjs.output_normalization',
  /** "float32" or "float16": how weights are stored in the file. */
  weightsDtype: 'ebmjs.weights_dtype',
  /** The tfjs model's name. */
  modelName: 'ebmjs.model_name',
} as const;

export type MetadataKey = (typeof METADATA_KEYS)[keyof typeof METADATA_KEYS];

/** Memory order of an image tensor. */
export type ImageLayout = 'NHWC' | 'NCHW';

/** Memory order of a model input: images NHWC/NCHW, vectors NC, anything else 'other'. */
export type InputLayout = ImageLayout | 'NC' | 'other';

/** x' = (x · scale − mean) / std, per channel. */
export interface Preprocessing {
  scale?: number;
  mean?: number | number[];
  std?: number | number[];
}
