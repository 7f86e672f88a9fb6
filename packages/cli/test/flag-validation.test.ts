import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Every entry point into real work throws if called: a bad flag must be refused before any of them.
const work = vi.hoisted(() => ({ calls: [] as string[] }));
const trap =
  (name: string) =>
  (..._args: unknown[]): never => {
    work.calls.push(name);
    throw new Error(`work started: ${name}`);
  };
vi.mock('@ebmjs/backends', async (orig) => ({
  ...(await orig()),
  selectBackend: trap('selectBackend'),
}));
vi.mock('@ebmjs/train', async (orig) => ({
  ...(await orig()),
  loadMnist: trap('loadMnist'),
  loadFashionMnist: trap('loadFashionMnist'),
  imageFolder: trap('imageFolder'),
}));
vi.mock('@ebmjs/lab', async (orig) => ({ ...(await orig()), runLab: trap('runLab') }));
vi.mock('@ebmjs/models', async (orig) => ({ ...(await orig()), loadEncoder: trap('loadEncoder') }));
vi.mock('@ebmjs/web-infer', async (orig) => {
  const real = (await orig()) as Record<string, unknown>;
  return {
    ...real,
    collectImageFiles: trap('collectImageFiles'),
    FeatureExtractor: { create: trap('FeatureExtractor.create') },
  };
});

const { main } = await import('../src/index.js');

let dir = '';
let out = '';
let model = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebm-flags-'));
  out = join(dir, 'out');
  model = join(dir, 'model.onnx');
  await writeFile(model, 'not really onnx');
  await writeFile(join(dir, 'lr0.json'), JSON.stringify({ lr: 0 }));
});
beforeEach(() => {
  work.calls.length = 0;
});

function capture() {
  const lines: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => lines.push(l), err: (l: string) => err.push(l) }, err };
}

const o = () => ['--out', out];
const cases: Record<string, [() => string[], RegExp][]> = {
  train: [
    [() => ['train', 'simclr', '--lr', '0', ...o()], /--lr must be a number > 0, received "0"/],
    [() => ['train', 'simclr', '--lr', '', ...o()], /--lr must not be empty/],
    [() => ['train', 'simclr', '--lr=abc', ...o()], /--lr must be a number/],
    [() => ['train', 'simclr', '--lr', 'NaN', ...o()], /--lr must be a number/],
    [() => ['train', 'simclr', '--temperature', '0', ...o()], /--temperature must be a number > 0/],
    [() => ['train', 'simclr', '--temperature', ' ', ...o()], /--temperature must not be empty/],
    [
      () => ['train', 'simclr', '--batch-size', '1', ...o()],
      /--batch-size must be an integer >= 2/,
    ],
    [() => ['train', 'simclr', '--batch-size', '2.5', ...o()], /--batch-size must be an integer/],
    [() => ['train', 'simclr', '--epochs', '0', ...o()], /--epochs must be an integer >= 1/],
    [() => ['train', 'simclr', '--weight-decay', '-1', ...o()], /--weight-decay/],
    [() => ['train', 'simclr', '--warmup-epochs', '-1', ...o()], /--warmup-epochs/],
    [() => ['train', 'simclr', '--time-budget', '0', ...o()], /--time-budget must be a number > 0/],
    [() => ['train', 'simclr', '--max-steps', '0', ...o()], /--max-steps/],
    [() => ['train', 'simclr', '--limit', '1', ...o()], /--limit/],
    [() => ['train', 'simclr', '--seed', '-1', ...o()], /--seed/],
    [() => ['train', 'simclr', '--optimizer', 'adagrad', ...o()], /--optimizer must be one of/],
    [() => ['train', 'simclr', '--out', ''], /--out must not be empty/],
    [() => ['train', 'simclr', '--dataset', '', ...o()], /--dataset must not be empty/],
    [() => ['train', 'simclr', '--dataset', join(dir, 'nope'), ...o()], /--dataset must be mnist/],
    [
      () => ['train', 'simclr', '--config', join(dir, 'lr0.json'), ...o()],
      /--lr must be a number > 0/,
    ],
    // The non-contrastive recipes: their own flags checked, the others' refused.
    [
      () => ['train', 'byol', '--momentum', '1.5', ...o()],
      /--momentum must be a number in \[0, 1\]/,
    ],
    [() => ['train', 'byol', '--momentum', '', ...o()], /--momentum must not be empty/],
    [
      () => ['train', 'byol', '--temperature', '0.5', ...o()],
      /--temperature applies to simclr, moco, pirl, not to byol/,
    ],
    [
      () => ['train', 'simsiam', '--projection-dim', '0', ...o()],
      /--projection-dim must be an integer >= 1/,
    ],
    [
      () => ['train', 'simsiam', '--momentum', '0.9', ...o()],
      /--momentum applies to byol, not to simsiam/,
    ],
    [() => ['train', 'vicreg', '--variance=-1', ...o()], /--variance must be a number >= 0/],
    [() => ['train', 'vicreg', '--invariance', 'x', ...o()], /--invariance must be a number/],
    [
      () => ['train', 'vicreg', '--lambda', '0.01', ...o()],
      /--lambda applies to barlow-twins, not to vicreg/,
    ],
    [() => ['train', 'barlow-twins', '--lambda=-1', ...o()], /--lambda must be a number >= 0/],
    [
      () => ['train', 'barlow-twins', '--covariance', '1', ...o()],
      /--covariance applies to vicreg, not to barlow-twins/,
    ],
    [
      () => ['train', 'barlow-twins', '--batch-size', '1', ...o()],
      /--batch-size must be an integer >= 2/,
    ],
  ],
  eval: [
    [() => ['eval', '/no/such-run'], /no such run or encoder directory: \/no\/such-run/],
    [() => ['eval', model], /run or encoder directory .*model\.onnx is not a directory/],
    [() => ['eval', ''], /argument 1 must not be empty/],
    [() => ['eval', dir, '--k', '0'], /--k must be an integer >= 1/],
    [() => ['eval', dir, '--k', ''], /--k must not be empty/],
    [() => ['eval', dir, '--temperature', '0'], /--temperature must be a number > 0/],
    [() => ['eval', dir, '--train-limit', '0'], /--train-limit/],
    [() => ['eval', dir, '--test-limit', '1.5'], /--test-limit/],
    [() => ['eval', dir, '--dataset', '/no/such/dir'], /--dataset must be mnist/],
  ],
  export: [
    [() => ['export', dir, '--out', ''], /--out must not be empty/],
    [() => ['export', dir, '--out', 'x.onnx', '--opset', '0'], /--opset must be an integer >= 1/],
    [() => ['export', dir, '--out', 'x.onnx', '--opset', ''], /--opset must not be empty/],
    [
      () => ['export', dir, '--out', 'x.onnx', '--layout', 'nhwc'],
      /--layout must be one of NHWC, NCHW/,
    ],
    [() => ['export', '/no/such/run', '--out', 'x.onnx'], /no such run or encoder directory/],
  ],
  embed: [
    [() => ['embed', '/no/such.onnx', 'x.png'], /no such model file: \/no\/such\.onnx/],
    [() => ['embed', dir, 'x.png'], /model file .* is not a file/],
    [() => ['embed', model, 'x.png', '--device', 'gpu'], /--device must be one of auto, cpu, cuda/],
    [() => ['embed', model, 'x.png', '--batch-size', '0'], /--batch-size must be an integer >= 1/],
    [() => ['embed', model, 'x.png', '--out', 'e.csv'], /--out must end in \.jsonl or \.npy/],
    [() => ['embed', model, ''], /argument 2 must not be empty/],
  ],
  bench: [
    [() => ['bench', '--batch', '1'], /--batch must be an integer >= 2/],
    [() => ['bench', '--steps', ''], /--steps must not be empty/],
    [() => ['bench', '--model', ''], /--model must not be empty/],
  ],
  demo: [
    [() => ['demo', '--budget', '10', ...o()], /--budget must be a number >= 30/],
    [() => ['demo', '--train-limit', '10', ...o()], /--train-limit must be an integer >= 512/],
    [() => ['demo', '--eval-train', '5', ...o()], /--eval-train must be an integer >= 100/],
    [() => ['demo', '--batch-size', '', ...o()], /--batch-size must not be empty/],
    [() => ['demo', '--out', ''], /--out must not be empty/],
  ],
  lab: [
    [() => ['lab', '--steps', '', ...o()], /--steps must not be empty/],
    [() => ['lab', '--seed', '1.5', ...o()], /--seed must be an integer/],
    [() => ['lab', '--rbm-hidden', '0', ...o()], /--rbm-hidden/],
    [() => ['lab', '--methods', 'ml,', '--out', ''], /--out must not be empty/],
  ],
};

describe.each(Object.keys(cases))(
  'ebm %s: a bad flag is one line, exit 2, before any work',
  (name) => {
    it.each(
      cases[name]!.map(([argv, message]) => [argv().join(' ') || name, argv, message] as const),
    )('%s', async (_, argv, message) => {
      const { io, err } = capture();
      expect(await main(argv(), io)).toBe(2);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(message);
      expect(work.calls).toEqual([]);
      expect(await stat(out).catch(() => 'absent')).toBe('absent');
    });
  },
);
