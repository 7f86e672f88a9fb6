/**
 * The lab from a checkout, until `ebm lab` wires the same `runLab`: parses a few flags, picks a
 * backend (EBM_BACKEND, default: the best available; wasm for these dense nets in Node), prints
 * progress and the tables. Run with `node packages/train/scripts/lab.mjs --help`.
 */
import { selectBackend } from '@ebmjs/core';
import type { LabMethodName, ToyDatasetName } from '../src/lab/index.js';
import { runLab } from '../src/lab/index.js';
import type { RbmMethod } from '../src/recipes/rbm.js';

const HELP = `node packages/train/scripts/lab.mjs [options]
  --datasets a,b     toy datasets (moons, 8gaussians, rings, checkerboard, pinwheel; default all)
  --methods a,b      2-D methods (ml, cd, pcd, nce, dsm, dae; default all)
  --steps N          optimizer steps per 2-D method (default 500)
  --out DIR          output directory (default runs/lab-<date>)
  --seed S           default 0
  --rbm-steps N      optimizer steps per RBM method (default 1500)
  --rbm-methods a,b  cd, pcd, ratio-matching, mpf (default all)
  --rbm-hidden N     hidden units (default 64)
  --rbm-train N      training images (default 20000)
  --no-rbm           skip the RBM on MNIST`;

export async function main(argv: string[]): Promise<void> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help') {
      console.log(HELP);
      return;
    }
    if (a === '--no-rbm') flags.set('no-rbm', '1');
    else if (a.startsWith('--') && i + 1 < argv.length) flags.set(a.slice(2), argv[++i]!);
    else throw new Error(`Unknown argument ${a}\n${HELP}`);
  }
  const list = (name: string) => flags.get(name)?.split(',').filter(Boolean);
  const num = (name: string) => (flags.has(name) ? Number(flags.get(name)) : undefined);
  const info = await selectBackend({ order: ['wasm', 'cpu'] });
  console.log(`backend: ${info.backend}${info.notes.length ? ` (${info.notes.join('; ')})` : ''}`);
  const started = performance.now();
  let last = '';
  const result = await runLab({
    ...(list('datasets') ? { datasets: list('datasets') as ToyDatasetName[] } : {}),
    ...(list('methods') ? { methods: list('methods') as LabMethodName[] } : {}),
    ...(num('steps') !== undefined ? { steps: num('steps')! } : {}),
    ...(flags.has('out') ? { out: flags.get('out')! } : {}),
    ...(num('seed') !== undefined ? { seed: num('seed')! } : {}),
    rbm: flags.has('no-rbm')
      ? false
      : {
          ...(num('rbm-steps') !== undefined ? { steps: num('rbm-steps')! } : {}),
          ...(list('rbm-methods') ? { methods: list('rbm-methods') as RbmMethod[] } : {}),
          ...(num('rbm-hidden') !== undefined ? { numHidden: num('rbm-hidden')! } : {}),
          ...(num('rbm-train') !== undefined ? { trainSize: num('rbm-train')! } : {}),
        },
    command: `node packages/train/scripts/lab.mjs ${argv.join(' ')}`.trim(),
    onProgress: (e) => {
      const t = ((performance.now() - started) / 1000).toFixed(0);
      if (e.phase === 'write') {
        console.log(`[${t}s] wrote ${e.file}`);
        return;
      }
      const what = e.phase === 'toy' ? `${e.dataset}/${e.method}` : `rbm/${e.method}`;
      const done = e.step + 1 >= e.steps;
      if (what !== last || done || e.step % Math.max(1, Math.floor(e.steps / 4)) === 0) {
        console.log(`[${t}s] ${what} step ${e.step + 1}/${e.steps} loss ${e.loss.toFixed(4)}`);
        last = what;
      }
    },
  });
  console.log(`\n${result.markdown}`);
  console.log(
    `total ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${result.out}`,
  );
}
