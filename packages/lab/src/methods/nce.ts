import { nce, noiseDistributions } from '@ebmjs/losses';
import { EnergyNet } from '../energy-net.js';
import type { LabMethod } from './types.js';

/** Noise samples per data sample. */
export const NCE_RATIO = 4;
/** The noise's standard deviation, relative to the data's (per axis): wider so it covers the tails. */
export const NCE_WIDTH = 1.25;

/**
 * Noise-contrastive estimation (Gutmann & Hyvärinen 2010): logistic regression of data against
 * a Gaussian fitted to the data (widened ×1.25), with a learned log-partition c, so exp(−E − c)
 * is a normalised density at the optimum.
 */
export const noiseContrastiveEstimation: LabMethod = {
  name: 'nce',
  title: 'NCE',
  create({ train, hiddenUnits, seed }) {
    const net = new EnergyNet({ hiddenUnits, seed });
    const n = train.length / 2;
    const mean = [0, 1].map((a) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += train[2 * i + a]!;
      return s / n;
    });
    const std = [0, 1].map((a) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (train[2 * i + a]! - mean[a]!) ** 2;
      return NCE_WIDTH * Math.sqrt(s / n);
    });
    const loss = nce({
      noise: noiseDistributions.gaussian({ dim: 2, mean, std }),
      noiseRatio: NCE_RATIO,
      seed: seed + 43,
    });
    return {
      settings: `Gaussian noise (data mean, ${NCE_WIDTH}× data std), ν=${NCE_RATIO}, learned log Z`,
      loss: (batch) => loss(net.energy, batch),
      variables: () => [...net.trainableVariables, loss.logZ],
      energy: net.energy,
      dispose() {
        loss.dispose();
        net.dispose();
      },
    };
  },
};
