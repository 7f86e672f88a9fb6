import { EbmError } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  barlowTwins,
  contrastiveDivergence,
  crossBatchMemory,
  denoisingAutoencoderLoss,
  denoisingScoreMatching,
  distances,
  infoNCE,
  marginLosses,
  miners,
  minimumProbabilityFlow,
  nce,
  negativeLogLikelihood,
  noiseDistributions,
  ntXent,
  pairContrastive,
  pirlNCE,
  ratioMatching,
  supCon,
  triplet,
  vicReg,
} from '../src/index.js';

useCpuBackend();

const energy = (x: tf.Tensor) => tf.sum(x, 1);
const noise = () => noiseDistributions.gaussian({ dim: 2 });

/** Calls `fn` and returns what it threw; disposes whatever a factory returned by mistake. */
function thrown(fn: () => unknown): unknown {
  try {
    const made = fn() as { dispose?: () => void } | undefined;
    made?.dispose?.();
  } catch (error) {
    return error;
  }
  return undefined;
}

// Every options-taking factory: its caller name, a call with one misspelt key, the key, the
// known keys in declaration order, and the suggestion the error must make.
const FACTORIES: {
  caller: string;
  call: (options: Record<string, unknown>) => unknown;
  misspelt: Record<string, unknown>;
  known: string[];
  suggestion: string;
}[] = [
  {
    caller: 'ntXent',
    call: (o) => ntXent(o),
    misspelt: { temprature: 0.1 },
    known: ['temperature', 'similarity', 'reducer', 'decoupled'],
    suggestion: 'temperature',
  },
  {
    caller: 'infoNCE',
    call: (o) => infoNCE(o),
    misspelt: { inBatchNegative: false },
    known: ['temperature', 'similarity', 'inBatchNegatives', 'reducer'],
    suggestion: 'inBatchNegatives',
  },
  {
    caller: 'pirlNCE',
    call: (o) => pirlNCE(o),
    misspelt: { lamda: 0.3 },
    known: ['temperature', 'mode', 'lambda', 'logZ', 'datasetSize', 'similarity', 'reducer'],
    suggestion: 'lambda',
  },
  {
    caller: 'supCon',
    call: (o) => supCon(o),
    misspelt: { temperatur: 0.2 },
    known: ['temperature', 'similarity', 'reducer', 'miner'],
    suggestion: 'temperature',
  },
  {
    caller: 'pairContrastive',
    call: (o) => pairContrastive(o),
    misspelt: { positivMargin: 0.1 },
    known: ['margin', 'positiveMargin', 'distance', 'reducer', 'miner'],
    suggestion: 'positiveMargin',
  },
  {
    caller: 'triplet',
    call: (o) => triplet(o),
    misspelt: { minning: 'hard' },
    known: ['margin', 'mining', 'distance', 'reducer', 'miner'],
    suggestion: 'mining',
  },
  {
    caller: 'vicReg',
    call: (o) => vicReg(o),
    misspelt: { varianse: 10 },
    known: ['invariance', 'variance', 'covariance', 'gamma', 'epsilon'],
    suggestion: 'variance',
  },
  {
    caller: 'barlowTwins',
    call: (o) => barlowTwins(o),
    misspelt: { lamda: 0.01 },
    known: ['lambda', 'epsilon'],
    suggestion: 'lambda',
  },
  {
    caller: 'miners.batchHard',
    call: (o) => miners.batchHard(o),
    misspelt: { distanse: undefined },
    known: ['distance'],
    suggestion: 'distance',
  },
  {
    caller: 'miners.semiHard',
    call: (o) => miners.semiHard(o),
    misspelt: { distanse: undefined },
    known: ['distance'],
    suggestion: 'distance',
  },
  {
    caller: 'miners.tripletMargin',
    call: (o) => miners.tripletMargin(o),
    misspelt: { typ: 'hard' },
    known: ['margin', 'type', 'distance'],
    suggestion: 'type',
  },
  {
    caller: 'miners.multiSimilarity',
    call: (o) => miners.multiSimilarity(o),
    misspelt: { epsillon: 0.2 },
    known: ['epsilon', 'distance'],
    suggestion: 'epsilon',
  },
  {
    caller: 'crossBatchMemory',
    call: (o) => crossBatchMemory(supCon(), o),
    misspelt: { sise: 16 },
    known: ['size', 'miner'],
    suggestion: 'size',
  },
  {
    caller: 'marginLosses.hinge',
    call: (o) => marginLosses.hinge(o),
    misspelt: { margn: 2 },
    known: ['margin', 'reducer'],
    suggestion: 'margin',
  },
  {
    caller: 'marginLosses.log',
    call: (o) => marginLosses.log(o),
    misspelt: { reduce: undefined },
    known: ['reducer'],
    suggestion: 'reducer',
  },
  {
    caller: 'marginLosses.squareSquare',
    call: (o) => marginLosses.squareSquare(o),
    misspelt: { Margin: 2 },
    known: ['margin', 'reducer'],
    suggestion: 'margin',
  },
  {
    caller: 'marginLosses.squareExponential',
    call: (o) => marginLosses.squareExponential(o),
    misspelt: { gama: 2 },
    known: ['gamma', 'reducer'],
    suggestion: 'gamma',
  },
  {
    caller: 'negativeLogLikelihood',
    call: (o) => negativeLogLikelihood(o),
    misspelt: { betta: 2 },
    known: ['beta', 'reducer'],
    suggestion: 'beta',
  },
  {
    caller: 'contrastiveDivergence',
    call: (o) => contrastiveDivergence(o),
    misspelt: { restrtProb: 0.05 },
    known: [
      'sampler',
      'k',
      'persistent',
      'restartProb',
      'chains',
      'energyL2',
      'samplerOptions',
      'seed',
    ],
    suggestion: 'restartProb',
  },
  {
    caller: 'nce',
    call: (o) => nce({ noise: noise(), ...o }),
    misspelt: { noiseRation: 2 },
    known: ['noise', 'logZ', 'noiseRatio', 'seed'],
    suggestion: 'noiseRatio',
  },
  {
    caller: 'ratioMatching',
    call: (o) => ratioMatching(energy, o),
    misspelt: { reducers: undefined },
    known: ['reducer'],
    suggestion: 'reducer',
  },
  {
    caller: 'minimumProbabilityFlow',
    call: (o) => minimumProbabilityFlow(energy, o),
    misspelt: { logs: true },
    known: ['log', 'reducer'],
    suggestion: 'log',
  },
  {
    caller: 'denoisingScoreMatching',
    call: (o) => denoisingScoreMatching({ sigma: 0.1, ...o }),
    misspelt: { sed: 3 },
    known: ['sigma', 'reducer', 'seed'],
    suggestion: 'seed',
  },
  {
    caller: 'denoisingAutoencoderLoss',
    call: (o) => denoisingAutoencoderLoss({ sigma: 0.1, ...o }),
    misspelt: { sigmas: 0.2 },
    known: ['sigma', 'reducer', 'seed'],
    suggestion: 'sigma',
  },
  {
    caller: 'distances.lp',
    call: (o) => distances.lp(o),
    misspelt: { normalise: false },
    known: ['p', 'normalize', 'power'],
    suggestion: 'normalize',
  },
  {
    caller: 'noiseDistributions.gaussian',
    call: (o) => noiseDistributions.gaussian({ dim: 2, ...o }),
    misspelt: { sd: 2 },
    known: ['dim', 'mean', 'std'],
    suggestion: 'std',
  },
  {
    caller: 'noiseDistributions.bernoulli',
    call: (o) => noiseDistributions.bernoulli({ dim: 2, ...o }),
    misspelt: { pp: 0.3 },
    known: ['dim', 'p'],
    suggestion: 'p',
  },
];

describe('every loss factory rejects unknown options (issue #15)', () => {
  it('ntXent names the misspelt key, the closest known one and all of them', () => {
    const error = thrown(() => ntXent({ temprature: 0.1 } as never));
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).code).toBe('INVALID_ARGUMENT');
    expect((error as EbmError).message).toBe(
      'ntXent: unknown option "temprature". Did you mean "temperature"? Known options: temperature, similarity, reducer, decoupled.',
    );
  });

  it.each(FACTORIES)(
    '$caller rejects a misspelt key',
    ({ caller, call, misspelt, known, suggestion }) => {
      const key = Object.keys(misspelt)[0]!;
      const error = thrown(() => call(misspelt));
      expect(error, `${caller} must throw`).toBeInstanceOf(EbmError);
      expect((error as EbmError).code).toBe('INVALID_ARGUMENT');
      expect((error as EbmError).message).toBe(
        `${caller}: unknown option "${key}". Did you mean "${suggestion}"? Known options: ${known.join(', ')}.`,
      );
    },
  );

  it.each(FACTORIES)(
    '$caller still builds with every key it declares left undefined',
    ({ call, known }) => {
      const none = Object.fromEntries(known.map((k) => [k, undefined]));
      // Keep the required options the table's calls fill in.
      for (const k of ['noise', 'sigma', 'dim']) delete none[k];
      const made = call(none) as { dispose?: () => void };
      expect(made).toBeDefined();
      made.dispose?.();
    },
  );

  it('rejects options that are not an object', () => {
    expect(() => ntXent(0.1 as never)).toThrow(/^ntXent: options must be an object, received /);
    expect(() => triplet([] as never)).toThrow(/^triplet: options must be an object, received /);
  });

  it('required options keep their messages', () => {
    expect(() => nce({} as never)).toThrow(/^nce: noise must be a noise distribution/);
    expect(() => nce(undefined as never)).toThrow(/^nce: noise must be a noise distribution/);
    expect(() => denoisingScoreMatching({} as never)).toThrow(/denoisingScoreMatching: sigma/);
    expect(() => noiseDistributions.gaussian({} as never)).toThrow(
      /noiseDistributions\.gaussian: dim/,
    );
  });
});
