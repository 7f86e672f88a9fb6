import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('ebm train byol', () => {
  let dir = '';
  const env = process.env.EBM_BACKEND;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-cli-nc-'));
    process.env.EBM_BACKEND = 'cpu'; // one small step of the default ConvNet on any machine
  });
  afterAll(() => {
    if (env === undefined) delete process.env.EBM_BACKEND;
    else process.env.EBM_BACKEND = env;
  });

  // One step of the default ConvNet takes ~40 s on the cpu backend of a shared 2-core machine:
  // BYOL, the recipe with the most parts (target, predictor), stands for the four; the flags of
  // the others are checked before any work in flag-validation.test.ts.
  const RUNS: [string, string[]][] = [['byol', ['--momentum', '0.9', '--projection-dim', '16']]];
  it.each(RUNS)(
    '%s trains one step with its own flags, saves the encoder and records the flags',
    { timeout: 120_000 },
    async (recipe, flags) => {
      const run = join(dir, recipe);
      const t = capture();
      const argv = ['train', recipe, '--limit', '16', '--batch-size', '8', '--max-steps', '1'];
      expect(await main([...argv, ...flags, '--out', run], t.io), t.err.join('\n')).toBe(0);
      expect(t.out.join('\n')).toMatch(new RegExp(`trained ${recipe} for 1 steps`));
      expect((await stat(join(run, 'encoder'))).isDirectory()).toBe(true);
      const info = JSON.parse(await readFile(join(run, 'run.json'), 'utf8'));
      expect(info.recipe).toBe(recipe);
      for (let i = 0; i < flags.length; i += 2) {
        const key = flags[i]!.slice(2).replace(/-(.)/g, (_, c: string) => c.toUpperCase());
        expect(info.config[key], key).toBe(Number(flags[i + 1]));
      }
    },
  );
});
