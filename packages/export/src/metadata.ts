import type { ResolvedOptions } from './options.js';
import { EBMJS_VERSION } from './version.js';

/** The metadata_props keys every exported model carries. */
export const METADATA_KEYS = {
  /** ebm.js version that exported the model. */
  version: 'ebmjs.version',
  /** Training recipe (simclr, moco, pirl, ...) or "unknown". */
  recipe: 'ebmjs.recipe',
  /** JSON array of the (first) input's shape in the exported layout; null = dynamic batch. */
  inputShape: 'ebmjs.input_shape',
  /** "NHWC" or "NCHW" for image inputs; "NC" (rank 2) or "N..." otherwise. */
  inputLayout: 'ebmjs.input_layout',
  /** JSON number: multiply raw inputs by it first (e.g. 1/255). */
  preprocessingScale: 'ebmjs.preprocessing.scale',
  /** JSON number or per-channel array subtracted after scaling. */
  preprocessingMean: 'ebmjs.preprocessing.mean',
  /** JSON number or per-channel array divided by last. */
  preprocessingStd: 'ebmjs.preprocessing.std',
  /** Size of the last axis of the (first) output, as a decimal string. */
  embeddingDim: 'ebmjs.embedding_dim',
  /** "l2" when outputs are unit vectors (normalize option or a final L2-normalize layer), else "none". */
  outputNormalization: 'ebmjs.output_normalization',
  /** "float32" or "float16": how weights are stored in the file. */
  weightsDtype: 'ebmjs.weights_dtype',
  /** The tfjs model's name. */
  modelName: 'ebmjs.model_name',
} as const;

export interface MetadataFacts {
  inputShape: (number | null)[];
  inputLayout: string;
  embeddingDim: number | null;
  outputNormalized: boolean;
  modelName: string;
}

export function buildMetadata(
  options: ResolvedOptions,
  facts: MetadataFacts,
): Record<string, string> {
  const k = METADATA_KEYS;
  return {
    [k.version]: EBMJS_VERSION,
    [k.recipe]: options.recipe,
    [k.inputShape]: JSON.stringify(facts.inputShape),
    [k.inputLayout]: facts.inputLayout,
    [k.preprocessingScale]: JSON.stringify(options.preprocessing.scale),
    [k.preprocessingMean]: JSON.stringify(options.preprocessing.mean),
    [k.preprocessingStd]: JSON.stringify(options.preprocessing.std),
    [k.embeddingDim]: facts.embeddingDim === null ? 'unknown' : String(facts.embeddingDim),
    [k.outputNormalization]: facts.outputNormalized ? 'l2' : 'none',
    [k.weightsDtype]: options.float16 ? 'float16' : 'float32',
    [k.modelName]: facts.modelName,
    ...options.metadata,
  };
}
