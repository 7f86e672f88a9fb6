import { METADATA_KEYS } from '@ebmjs/contract';
import type { ResolvedOptions } from './options.js';
import { EBMJS_VERSION } from './version.js';

/** The metadata_props keys every exported model carries (the contract web-infer reads). */
export { METADATA_KEYS };

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
