import { ReplayBuffer } from '@ebmjs/core';
import { contrastiveDivergence } from '@ebmjs/losses';
import { EnergyNet } from '../energy-net.js';
import type { LabMethod } from './types.js';

/** Langevin steps per update (CD-k and PCD alike). */
export const LANGEVIN_STEPS = 10;
/** Langevin step size η; the noise is √(2η), so the chains target exp(−E) itself. */
export const LANGEVIN_STEP_SIZE = 0.01;
/** α of the α·(E(data)² + E(samples)²) penalty that keeps the energy's level from drifting. */
export const ENERGY_L2 = 0.01;

/**
 * CD-k (Hinton 2002): negatives are k Langevin steps started at the data batch. Short chains
 * only see the neighbourhood of the data, which is what the lab shows: the surface is shaped
 * near the data and left unconstrained further away.
 */
export const contrastiveDivergenceLangevin: LabMethod = {
  name: 'cd',
  title: `CD-${LANGEVIN_STEPS}`,
  create({ box, hiddenUnits, seed }) {
    const net = new EnergyNet({ hiddenUnits, seed });
    const cd = contrastiveDivergence({
      sampler: 'langevin',
      k: LANGEVIN_STEPS,
      energyL2: ENERGY_L2,
      samplerOptions: { stepSize: LANGEVIN_STEP_SIZE, clamp: [box.lo, box.hi] },
      seed: seed + 17,
    });
    return {
      settings: `Langevin from the data, k=${LANGEVIN_STEPS}, η=${LANGEVIN_STEP_SIZE}, σ=√(2η), energy L2 ${ENERGY_L2}`,
      loss: (batch) => cd(net.energy, batch),
      variables: () => net.trainableVariables,
      energy: net.energy,
      dispose: () => net.dispose(),
    };
  },
};

/** Persistent chains kept between updates. */
export const PCD_CHAINS = 4096;
/** Chance that a drawn chain restarts from uniform noise on the box. */
export const PCD_REINIT = 0.05;

/**
 * Persistent CD (Tieleman 2008) with a replay buffer: the chains carry over between updates,
 * start uniform on the box and are restarted there with probability 5%, so over training they
 * explore the whole box and find (and raise) spurious low-energy regions.
 */
export const persistentContrastiveDivergence: LabMethod = {
  name: 'pcd',
  title: `PCD-${LANGEVIN_STEPS}`,
  create({ box, hiddenUnits, seed }) {
    const net = new EnergyNet({ hiddenUnits, seed });
    const buffer = new ReplayBuffer({
      capacity: PCD_CHAINS,
      sampleShape: [2],
      init: 'uniform',
      range: [box.lo, box.hi],
      reinitProb: PCD_REINIT,
      seed: seed + 29,
    });
    const cd = contrastiveDivergence({
      sampler: 'langevin',
      k: LANGEVIN_STEPS,
      persistent: buffer,
      energyL2: ENERGY_L2,
      samplerOptions: { stepSize: LANGEVIN_STEP_SIZE, clamp: [box.lo, box.hi] },
      seed: seed + 31,
    });
    return {
      settings: `replay buffer of ${PCD_CHAINS} chains (uniform start, ${PCD_REINIT * 100}% restarts), Langevin k=${LANGEVIN_STEPS}, η=${LANGEVIN_STEP_SIZE}, energy L2 ${ENERGY_L2}`,
      loss: (batch) => cd(net.energy, batch),
      variables: () => net.trainableVariables,
      energy: net.energy,
      dispose: () => net.dispose(),
    };
  },
};
