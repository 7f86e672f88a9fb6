import { denoisingScoreMatching, scoreFromEnergy } from '@ebmjs/losses';
import { EnergyNet } from '../energy-net.js';
import type { LabMethod } from './types.js';

/** Noise level σ of denoising score matching. */
export const DSM_SIGMA = 0.1;

/**
 * Denoising score matching (Vincent 2011): the score −∂E/∂y of the energy regresses onto
 * −ε/σ at y + σε. The minimiser is the score of the data blurred by N(0, σ²I), so E is the
 * blurred log-density up to a constant, at temperature 1.
 */
export const denoisingScoreMatchingMethod: LabMethod = {
  name: 'dsm',
  title: 'DSM',
  create({ hiddenUnits, seed }) {
    const net = new EnergyNet({ hiddenUnits, seed });
    const loss = denoisingScoreMatching({ sigma: DSM_SIGMA, seed: seed + 53 });
    const score = scoreFromEnergy(net.energy);
    return {
      settings: `σ=${DSM_SIGMA}, score = −∇E (double backprop)`,
      loss: (batch) => loss(score, batch),
      variables: () => net.trainableVariables,
      energy: net.energy,
      dispose: () => net.dispose(),
    };
  },
};
