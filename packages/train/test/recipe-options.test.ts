import { EbmError } from '@ebmjs/contract';
import { describe, expect, it } from 'vitest';
import {
  trainBarlowTwins,
  trainBYOL,
  trainDAE,
  trainMoCo,
  trainPIRL,
  trainRBM,
  trainSimCLR,
  trainSimSiam,
  trainVICReg,
} from '../src/index.js';

// The keys of the training loop, which every recipe accepts and hands on (TrainConfig).
const LOOP = [
  'epochs',
  'batchSize',
  'sampler',
  'optimizer',
  'warmupEpochs',
  'schedule',
  'minLr',
  'seed',
  'maxSteps',
  'timeBudgetSeconds',
  'runDir',
  'checkpointEvery',
  'checkpointEverySteps',
  'logEverySteps',
  'resume',
  'extend',
  'signal',
  'engine',
  'onnxruntime',
  'callbacks',
  'evaluate',
];

// Every recipe: a call with one misspelt key, the recipe's own keys in declaration order, and
// the suggestion the error must make. No dataset is needed: the keys are checked first.
const RECIPES: {
  caller: string;
  call: (config: Record<string, unknown>) => Promise<unknown>;
  misspelt: Record<string, unknown>;
  own: string[];
  suggestion: string;
}[] = [
  {
    caller: 'trainSimCLR',
    call: (c) => trainSimCLR(c as never),
    misspelt: { temprature: 0.1 },
    own: [
      'dataset',
      'encoder',
      'head',
      'projectionDim',
      'temperature',
      'augmentation',
      'multiCrop',
    ],
    suggestion: 'temperature',
  },
  {
    caller: 'trainSimCLR',
    call: (c) => trainSimCLR(c as never),
    misspelt: { epoch: 3 },
    own: [
      'dataset',
      'encoder',
      'head',
      'projectionDim',
      'temperature',
      'augmentation',
      'multiCrop',
    ],
    suggestion: 'epochs',
  },
  {
    caller: 'trainMoCo',
    call: (c) => trainMoCo(c as never),
    misspelt: { shuffleBNGroups: 4 },
    own: [
      'dataset',
      'encoder',
      'head',
      'projectionDim',
      'temperature',
      'queueSize',
      'momentum',
      'augmentation',
      'shuffleBnGroups',
    ],
    suggestion: 'shuffleBnGroups',
  },
  {
    caller: 'trainPIRL',
    call: (c) => trainPIRL(c as never),
    misspelt: { bankMomentun: 0.9 },
    own: [
      'dataset',
      'encoder',
      'projectionDim',
      'temperature',
      'lambda',
      'negatives',
      'bankMomentum',
      'augmentation',
    ],
    suggestion: 'bankMomentum',
  },
  {
    caller: 'trainRBM',
    call: (c) => trainRBM(c as never),
    misspelt: { numHiden: 16 },
    own: [
      'dataset',
      'method',
      'numHidden',
      'k',
      'chains',
      'threshold',
      'rbm',
      'monitor',
      'closedFormFlips',
    ],
    suggestion: 'numHidden',
  },
  {
    caller: 'trainDAE',
    call: (c) => trainDAE(c as never),
    misspelt: { latentDims: 8 },
    own: ['dataset', 'dae', 'hiddenUnits', 'latentDim', 'noise', 'monitor'],
    suggestion: 'latentDim',
  },
  {
    caller: 'trainBYOL',
    call: (c) => trainBYOL(c as never),
    misspelt: { momentun: 0.9 },
    own: [
      'dataset',
      'encoder',
      'projector',
      'predictor',
      'projectionDim',
      'hiddenDim',
      'predictorHiddenDim',
      'momentum',
      'augmentation',
      'multiCrop',
    ],
    suggestion: 'momentum',
  },
  {
    caller: 'trainSimSiam',
    call: (c) => trainSimSiam(c as never),
    misspelt: { predictorHiddenDims: 16 },
    own: [
      'dataset',
      'encoder',
      'projector',
      'predictor',
      'projectionDim',
      'hiddenDim',
      'predictorHiddenDim',
      'augmentation',
      'multiCrop',
    ],
    suggestion: 'predictorHiddenDim',
  },
  {
    caller: 'trainVICReg',
    call: (c) => trainVICReg(c as never),
    misspelt: { covarience: 1 },
    own: [
      'dataset',
      'encoder',
      'projector',
      'projectionDim',
      'hiddenDim',
      'invariance',
      'variance',
      'covariance',
      'augmentation',
      'multiCrop',
    ],
    suggestion: 'covariance',
  },
  {
    caller: 'trainBarlowTwins',
    call: (c) => trainBarlowTwins(c as never),
    misspelt: { lamda: 0.01 },
    own: [
      'dataset',
      'encoder',
      'projector',
      'projectionDim',
      'hiddenDim',
      'lambda',
      'augmentation',
      'multiCrop',
    ],
    suggestion: 'lambda',
  },
];

describe('every recipe rejects unknown options (issue #15)', () => {
  it.each(RECIPES)(
    '$caller rejects $misspelt, naming its own and the loop keys',
    async ({ caller, call, misspelt, own, suggestion }) => {
      const key = Object.keys(misspelt)[0]!;
      const error = await call(misspelt).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `${caller} must reject`).toBeInstanceOf(EbmError);
      expect((error as EbmError).code).toBe('INVALID_ARGUMENT');
      expect((error as EbmError).message).toBe(
        `${caller}: unknown option "${key}". Did you mean "${suggestion}"? Known options: ${[...own, ...LOOP].join(', ')}.`,
      );
    },
  );

  // The CLI hands every recipe the same object of loop keys: none of them may be refused. With
  // every key present (left undefined) the first complaint is the missing dataset.
  const once = RECIPES.filter((r, i) => RECIPES.findIndex((s) => s.caller === r.caller) === i);
  it.each(once)('$caller accepts every key it declares', async ({ call, own }) => {
    const all = Object.fromEntries([...own, ...LOOP].map((k) => [k, undefined]));
    await expect(call(all)).rejects.toThrow(/dataset must be an ImageDataset/);
  });
});
