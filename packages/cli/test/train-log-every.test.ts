import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('ebm train --log-every', () => {
  let dir = '';
  const env = process.env.EBM_BACKEND;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-log-every-'));
    process.env.EBM_BACKEND = 'cpu';
  });
  afterAll(async () => {
    if (env === undefined) delete process.env.EBM_BACKEND;
    else process.env.EBM_BACKEND = env;
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a fractional value in one line, exit 2', async () => {
    const { io, err } = capture();
    expect(await main(['train', 'simclr', '--log-every', '1.5'], io)).toBe(2);
    expect(err).toEqual(['ebm train: --log-every must be an integer >= 0, received "1.5".']);
  });

  it('writes a step record per step with --log-every 1', { timeout: 300_000 }, async () => {
    const run = join(dir, 'run');
    const t = capture();
    const argv = ['train', 'simclr', '--limit', '32', '--batch-size', '8', '--max-steps', '2'];
    expect(await main([...argv, '--log-every', '1', '--out', run], t.io)).toBe(0);
    const lines = (await readFile(join(run, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1, 2]);
    expect(lines.filter((l) => l.type === undefined)).toHaveLength(1);
    // report.html, written when the epoch record is: one loss point per step record.
    const html = await readFile(join(run, 'report.html'), 'utf8');
    expect(html).toMatch(/id="loss-curve" data-points="2"/);
    expect(html).toContain('ebm train simclr on mnist');
  });

  it('writes no report.html with --no-report', { timeout: 300_000 }, async () => {
    const run = join(dir, 'no-report');
    const argv = ['train', 'simclr', '--limit', '16', '--batch-size', '8', '--max-steps', '1'];
    expect(await main([...argv, '--no-report', '--out', run], capture().io)).toBe(0);
    await expect(readFile(join(run, 'report.html'))).rejects.toThrow(/ENOENT/);
    await readFile(join(run, 'metrics.jsonl'));
  });
});
