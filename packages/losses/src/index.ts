import { cosine, dot, lp } from './distances.js';
import { hinge, log, squareExponential, squareSquare } from './margin-losses.js';
import { batchHard, multiSimilarity, semiHard, tripletMargin } from './miners.js';
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
/** Miners (pytorch-metric-learning's): index tuples that `triplet`, `pairContrastive` and `supCon` accept. */
export const miners = { batchHard, semiHard, multiSimilarity, tripletMargin } as const;

export { type BarlowTwinsOptions, barlowTwins } from './barlow-twins.js';
export type { EnergyFn } from './checks.js';
export {
  type CdSamplerFn,
  type ContrastiveDivergenceLoss,
  type ContrastiveDivergenceOptions,
  contrastiveDivergence,
} from './contrastive-divergence.js';
export {
  type CrossBatchMemoryLoss,
  type CrossBatchMemoryOptions,
  crossBatchMemory,
} from './cross-batch-memory.js';
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
export type { IndexTuple, IndexTupleLike, PairIndices, TripletIndices } from './indices.js';
export { type InfoNceLoss, type InfoNceOptions, infoNCE } from './info-nce.js';
export type { LabelsLike } from './labels.js';
export type {
  MarginLossOptions,
  MarginOptions,
  SquareExponentialOptions,
} from './margin-losses.js';
export type {
  Miner,
  MinerOptions,
  MultiSimilarityMinerOptions,
  TripletMarginMinerOptions,
  TripletMarginType,
} from './miners.js';
export {
  type MinimumProbabilityFlowOptions,
  minimumProbabilityFlow,
} from './minimum-probability-flow.js';
export { type NceLoss, type NceOptions, nce } from './nce.js';
export { type NegativeCosineOptions, negativeCosine } from './negative-cosine.js';
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
export { type VicRegOptions, vicReg } from './vicreg.js';
