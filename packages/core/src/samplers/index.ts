export { type SamplerResult, type StateEnergy } from './energy-fn.js';
export { gibbs, type GibbsOptions } from './gibbs.js';
export { langevin, type LangevinOptions } from './langevin.js';
export {
  metropolisHastings,
  type MetropolisHastingsOptions,
  type MetropolisHastingsResult,
} from './metropolis-hastings.js';
