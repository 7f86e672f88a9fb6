export type { SamplerResult, StateEnergy } from './energy-fn.js';
export { type GibbsOptions, gibbs } from './gibbs.js';
export { type LangevinOptions, langevin } from './langevin.js';
export {
  type MetropolisHastingsOptions,
  type MetropolisHastingsResult,
  metropolisHastings,
} from './metropolis-hastings.js';
