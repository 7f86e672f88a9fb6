import { cosine, dot, lp } from './distances.js';
import { hinge, log, squareExponential, squareSquare } from './margin-losses.js';
import { bernoulli, gaussian } from './noise.js';
import { mean, meanNonZero, sum } from './reducers.js';

/** Distances and similarities losses accept (pytorch-metric-learning's `distances`). */
export const distances = { lp, cosine, dot } as const;
/** The similarities among `distances`: larger means closer. */
export const similarities = { cosine, dot } as const;
/** How per-element losses become one scalar. */
export const reducers = { mean, sum, meanNonZero } as const;
/** LeCun et al. 2006 margin losses on the correct and the most offending incorrect energy. */
export const marginLosses = { hinge, log, squareSquare, squareExponential } as const;
/** Noise distributions for `nce`. */
export const noiseDistributions = { gaussian, bernoulli } as const;

export type { EnergyFn } from './checks.js';
export {
  type CdSamplerFn,
  type ContrastiveDivergenceLoss,
  type ContrastiveDivergenceOptions,
  contrastiveDivergence,
} from './contrastive-divergence.js';
export {
  denoisingAutoencoderLoss,
  type ReconstructFn,
  reconstructionEnergy,
} from './denoising-autoencoder.js';
export {
  type DenoisingLoss,
  type DenoisingOptions,
  denoisingScoreMatching,
  type ScoreFn,
  scoreFromEnergy,
} from './denoising-score-matching.js';
export type { Distance, LpOptions } from './distances.js';
export { type InfoNceLoss, type InfoNceOptions, infoNCE } from './info-nce.js';
export type { LabelsLike } from './labels.js';
export type {
  MarginLossOptions,
  MarginOptions,
  SquareExponentialOptions,
} from './margin-losses.js';
export {
  type MinimumProbabilityFlowOptions,
  minimumProbabilityFlow,
} from './minimum-probability-flow.js';
export { type NceLoss, type NceOptions, nce } from './nce.js';
export {
  type AnswerEnergyLoss,
  type NegativeLogLikelihoodOptions,
  negativeLogLikelihood,
} from './negative-log-likelihood.js';
export type { BernoulliNoiseOptions, GaussianNoiseOptions, NoiseDistribution } from './noise.js';
export { type NtXentOptions, ntXent, type TwoViewLoss } from './nt-xent.js';
export { type PairContrastiveOptions, pairContrastive } from './pair-contrastive.js';
export { type PirlNceLoss, type PirlNceOptions, pirlNCE } from './pirl-nce.js';
export { type BinaryDataLoss, type RatioMatchingOptions, ratioMatching } from './ratio-matching.js';
export type { Reducer } from './reducers.js';
export { type LabelledLoss, type SupConOptions, supCon } from './sup-con.js';
export { type TripletMining, type TripletOptions, triplet } from './triplet.js';
