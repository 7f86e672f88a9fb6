import { EbmError } from '@ebmjs/core';
import {
  contrastiveDivergenceLangevin,
  persistentContrastiveDivergence,
} from './contrastive-divergence.js';
import { denoisingAutoencoderMethod } from './dae.js';
import { maximumLikelihood } from './ml-exact.js';
import { noiseContrastiveEstimation } from './nce.js';
import { denoisingScoreMatchingMethod } from './score-matching.js';
import { LAB_METHOD_NAMES, type LabMethod, type LabMethodName } from './types.js';

export { fitTemperature } from './dae.js';
export { ML_TRAIN_GRID, maximumLikelihoodMethod } from './ml-exact.js';
export * from './types.js';

const REGISTRY: Record<LabMethodName, LabMethod> = {
  ml: maximumLikelihood,
  cd: contrastiveDivergenceLangevin,
  pcd: persistentContrastiveDivergence,
  nce: noiseContrastiveEstimation,
  dsm: denoisingScoreMatchingMethod,
  dae: denoisingAutoencoderMethod,
};

/** The lab method called `name`. */
export function labMethod(name: string): LabMethod {
  const method = (REGISTRY as Record<string, LabMethod | undefined>)[name];
  if (method === undefined) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `Unknown lab method "${name}". Expected one of: ${LAB_METHOD_NAMES.join(', ')}.`,
      { received: name },
    );
  }
  return method;
}
