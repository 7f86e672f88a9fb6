import { EbmError } from '@ebmjs/core';
import { useCpuBackend } from '@ebmjs/test-utils';
import { describe, expect, it } from 'vitest';
import {
  convEncoder,
  DenoisingAutoencoder,
  MemoryBank,
  MomentumEncoder,
  mlpEncoder,
  NegativeQueue,
  PirlHeads,
  pirlHeads,
  predictionHead,
  projectionHead,
  RBM,
  resnet18,
} from '../src/index.js';

useCpuBackend();

const tinyEncoder = () =>
  mlpEncoder({ inputShape: [2, 2, 1], hiddenUnits: [], embeddingDim: 2, name: 'tiny' });
const tinyDae = () => ({
  encoder: mlpEncoder({ inputShape: 4, hiddenUnits: [], embeddingDim: 2, name: 'dae_enc' }),
  decoder: mlpEncoder({ inputShape: 2, hiddenUnits: [], embeddingDim: 4, name: 'dae_dec' }).model,
});

/** Calls `fn` and returns what it threw; disposes whatever a builder returned by mistake. */
function thrown(fn: () => unknown): unknown {
  try {
    const made = fn() as { dispose?: () => void; model?: { dispose(): void } } | undefined;
    made?.dispose?.();
  } catch (error) {
    return error;
  }
  return undefined;
}

// Every options-taking builder with its required options filled in and one misspelt key.
const BUILDERS: {
  caller: string;
  call: (misspelt: Record<string, unknown>) => unknown;
  misspelt: Record<string, unknown>;
  known: string[];
  suggestion: string;
}[] = [
  {
    caller: 'mlpEncoder',
    call: (o) => mlpEncoder({ inputShape: 4, ...o }),
    misspelt: { embeddingDims: 8 },
    known: [
      'inputShape',
      'hiddenUnits',
      'embeddingDim',
      'batchNorm',
      'l2Normalize',
      'seed',
      'name',
      'inputName',
      'outputName',
    ],
    suggestion: 'embeddingDim',
  },
  {
    caller: 'convEncoder',
    call: (o) => convEncoder(o),
    misspelt: { chanels: [4] },
    known: [
      'inputShape',
      'channels',
      'embeddingDim',
      'batchNorm',
      'l2Normalize',
      'seed',
      'name',
      'inputName',
      'outputName',
    ],
    suggestion: 'channels',
  },
  {
    caller: 'resnet18',
    call: (o) => resnet18(o),
    misspelt: { widht: 8 },
    known: [
      'inputShape',
      'stem',
      'width',
      'embeddingDim',
      'l2Normalize',
      'seed',
      'name',
      'inputName',
      'outputName',
    ],
    suggestion: 'width',
  },
  {
    caller: 'projectionHead',
    call: (o) => projectionHead({ inputDim: 4, ...o }),
    misspelt: { outputDims: 2 },
    known: [
      'inputDim',
      'hiddenDim',
      'outputDim',
      'depth',
      'batchNorm',
      'l2Normalize',
      'seed',
      'name',
      'inputName',
      'outputName',
    ],
    suggestion: 'outputDim',
  },
  {
    caller: 'predictionHead',
    call: (o) => predictionHead({ inputDim: 4, ...o }),
    misspelt: { hiddenDims: 2 },
    known: ['inputDim', 'hiddenDim', 'outputDim', 'seed', 'name', 'inputName', 'outputName'],
    suggestion: 'hiddenDim',
  },
  {
    caller: 'pirlHeads',
    call: (o) => pirlHeads({ encoder: tinyEncoder(), ...o }),
    misspelt: { numPatch: 4 },
    known: [
      'encoder',
      'imageShape',
      'patchShape',
      'numPatches',
      'projectionDim',
      'patchDim',
      'l2Normalize',
      'seed',
      'name',
    ],
    suggestion: 'numPatches',
  },
  {
    caller: 'pirlHeads',
    call: (o) => PirlHeads.build({ encoder: tinyEncoder(), ...o }),
    misspelt: { projectionDims: 4 },
    known: [
      'encoder',
      'imageShape',
      'patchShape',
      'numPatches',
      'projectionDim',
      'patchDim',
      'l2Normalize',
      'seed',
      'name',
    ],
    suggestion: 'projectionDim',
  },
  {
    caller: 'NegativeQueue',
    call: (o) => new NegativeQueue({ size: 4, dim: 2, ...o }),
    misspelt: { inits: 'zeros' },
    known: ['size', 'dim', 'init', 'seed'],
    suggestion: 'init',
  },
  {
    caller: 'MemoryBank',
    call: (o) => new MemoryBank({ size: 4, dim: 2, ...o }),
    misspelt: { momentun: 0.9 },
    known: ['size', 'dim', 'momentum', 'seed'],
    suggestion: 'momentum',
  },
  {
    caller: 'DenoisingAutoencoder',
    call: (o) => new DenoisingAutoencoder({ ...tinyDae(), ...o }),
    misspelt: { noize: { type: 'mask', rate: 0.5 } },
    known: ['encoder', 'decoder', 'noise', 'seed'],
    suggestion: 'noise',
  },
  {
    caller: 'DenoisingAutoencoder.mlp',
    call: (o) => DenoisingAutoencoder.mlp({ inputDim: 4, hiddenUnits: [], ...o }),
    misspelt: { latentDims: 2 },
    known: ['inputDim', 'hiddenUnits', 'latentDim', 'outputActivation', 'noise', 'seed', 'name'],
    suggestion: 'latentDim',
  },
  {
    caller: 'MomentumEncoder',
    call: (o) => {
      const online = tinyEncoder();
      try {
        return new MomentumEncoder(online, o);
      } finally {
        online.model.dispose();
      }
    },
    misspelt: { nonTrainables: 'copy' },
    known: ['momentum', 'schedule', 'totalSteps', 'nonTrainable'],
    suggestion: 'nonTrainable',
  },
  {
    caller: 'RBM',
    call: (o) => new RBM({ numVisible: 4, numHidden: 2, ...o }),
    misspelt: { initstd: 0.1 },
    known: ['numVisible', 'numHidden', 'initStd', 'seed'],
    suggestion: 'initStd',
  },
];

describe('every model builder rejects unknown options (issue #15)', () => {
  it.each(BUILDERS)(
    '$caller rejects $misspelt',
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

  it('rejects options that are not an object', () => {
    expect(() => convEncoder(3 as never)).toThrow(
      /^convEncoder: options must be an object, received /,
    );
    expect(() => new MemoryBank([4, 2] as never)).toThrow(
      /^MemoryBank: options must be an object, received /,
    );
  });

  it('required options keep their messages and defaults still apply', () => {
    expect(() => mlpEncoder(undefined as never)).toThrow(/mlpEncoder: inputShape/);
    expect(() => projectionHead({} as never)).toThrow(/projectionHead: inputDim/);
    expect(() => new NegativeQueue({ dim: 2 } as never)).toThrow(/NegativeQueue: size/);
    const bank = new MemoryBank({ size: 4, dim: 2, momentum: undefined });
    expect(bank.momentum).toBe(0.5);
    bank.dispose();
    const encoder = mlpEncoder({ inputShape: 4, seed: undefined });
    expect(encoder.embeddingDim).toBe(128);
    encoder.model.dispose();
  });
});
