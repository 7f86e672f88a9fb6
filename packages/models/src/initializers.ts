import { Rng } from '@ebmjs/core';
import * as tfl from '@tensorflow/tfjs-layers';

type Initializer = ReturnType<typeof tfl.initializers.heNormal>;

/**
 * Hands every layer of one model its own initializer seed, drawn from one integer. Reusing a
 * single seed would give same-shaped layers identical weights; drawing from a stream keeps
 * builds reproducible and layers independent.
 */
export class SeededInitializers {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** He normal (truncated), for layers followed by ReLU. */
  he(): Initializer {
    return tfl.initializers.heNormal({ seed: this.rng.seed() });
  }

  /** Glorot uniform, for linear outputs. */
  glorot(): Initializer {
    return tfl.initializers.glorotUniform({ seed: this.rng.seed() });
  }
}
