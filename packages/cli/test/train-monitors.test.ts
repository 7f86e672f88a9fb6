import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetrics, readStepMetrics } from '@ebmjs/train/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('ebm train --knn-every / --online-probe', () => {
  let dir = '';
  const env = process.env.EBM_BACKEND;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-monitors-'));
    // wasm with ebm.js's conv kernels: the default ConvNet trains many times faster than on cpu.
    process.env.EBM_BACKEND = 'wasm';
  });
  afterAll(async () => {
    if (env === undefined) delete process.env.EBM_BACKEND;
    else process.env.EBM_BACKEND = env;
    await rm(dir, { recursive: true, force: true });
  });

  it('usage errors are one line, exit 2, before any work', async () => {
    const cases: [string[], string][] = [
      [['--knn-every', '1.5'], '--knn-every must be an integer >= 0, received "1.5".'],
      [['--knn-every=-1'], '--knn-every must be an integer >= 0, received "-1".'],
      [
        ['--knn-every', '1', '--monitor-bank', '0'],
        '--monitor-bank must be an integer >= 1, received "0".',
      ],
      [
        ['--monitor-bank', '500'],
        '--monitor-bank sizes the monitors: it needs --knn-every n or --online-probe.',
      ],
      [
        ['--knn-every', '0', '--monitor-test', '50'],
        '--monitor-test sizes the monitors: it needs --knn-every n or --online-probe.',
      ],
    ];
    for (const [flags, message] of cases) {
      const { io, err } = capture();
      expect(await main(['train', 'simclr', ...flags], io)).toBe(2);
      expect(err).toEqual([`ebm train: ${message}`]);
    }
  });

  it("the last kNN value equals ebm eval's on the same images; training is unchanged; run.json has the backend", {
    timeout: 600_000,
  }, async () => {
    // The default ConvNet: keep it to a few steps and images.
    const argv = ['train', 'simclr', '--limit', '16', '--batch-size', '8', '--log-every', '1'];
    const plain = join(dir, 'plain');
    expect(await main([...argv, '--max-steps', '1', '--out', plain], capture().io)).toBe(0);
    const run = join(dir, 'monitored');
    const monitorFlags = ['--knn-every', '1', '--online-probe', '--monitor-bank', '200'];
    const t = capture();
    expect(
      await main([...argv, ...monitorFlags, '--monitor-test', '100', '--out', run], t.io),
    ).toBe(0);
    expect(t.err).toContain(
      'monitors: kNN every 1 epoch(s), online linear probe on 200 training / 100 test images',
    );
    const records = await readMetrics(join(run, 'metrics.jsonl'));
    expect(records).toHaveLength(1);
    expect(records[0]?.metrics?.['step']).toBe(2); // 16 images in batches of 8
    for (const key of ['knn', 'linearProbe']) {
      expect(records[0]?.metrics?.[key]).toBeGreaterThanOrEqual(0);
      expect(records[0]?.metrics?.[key]).toBeLessThanOrEqual(1);
    }
    // The monitors build the recipe's own default encoder (same weights): the same first step.
    const first = async (r: string) => (await readStepMetrics(join(r, 'metrics.jsonl')))[0]?.loss;
    expect(await first(run)).toBe(await first(plain));

    // ebm eval on the saved encoder, with the bank and test images the monitor used.
    const e = capture();
    expect(await main(['eval', run, '--train-limit', '200', '--test-limit', '100'], e.io)).toBe(0);
    const knn = ((records.at(-1)?.metrics?.['knn'] ?? Number.NaN) * 100).toFixed(2);
    expect(e.out.join('\n')).toContain(`kNN accuracy ${knn}%`);

    const info = JSON.parse(await readFile(join(run, 'run.json'), 'utf8'));
    expect(info.backend).toMatchObject({ name: 'wasm', tfjs: 'wasm', device: 'cpu' });
    expect(info.backend.threads).toBeGreaterThanOrEqual(1);
    expect(info.monitors).toMatchObject({ knnEvery: 1, onlineProbe: true, bank: 200, test: 100 });
    const shown = capture();
    expect(await main(['inspect', run], shown.io)).toBe(0);
    expect(shown.out).toContain(
      `backend: wasm (tfjs wasm, ${info.backend.threads} thread${info.backend.threads === 1 ? '' : 's'})`,
    );
    expect(shown.out.join('\n')).toMatch(
      /accuracy: \{"knn":[0-9.]+,"linearProbe":[0-9.]+,"step":2\}/,
    );
  });
});
