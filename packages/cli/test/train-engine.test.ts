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

describe('ebm train --engine', () => {
  let dir = '';
  const env = process.env.EBM_BACKEND;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-engine-'));
    process.env.EBM_BACKEND = 'cpu';
  });
  afterAll(async () => {
    if (env === undefined) delete process.env.EBM_BACKEND;
    else process.env.EBM_BACKEND = env;
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects an unknown engine in one line, exit 2', async () => {
    const { io, err } = capture();
    expect(await main(['train', 'simclr', '--engine', 'gpu'], io)).toBe(2);
    expect(err).toEqual([
      'ebm train: --engine must be one of tfjs, onnxruntime, auto, received "gpu".',
    ]);
  });

  it('trains on onnxruntime, says so, and records it in run.json for ebm inspect', {
    timeout: 300_000,
  }, async () => {
    const run = join(dir, 'ort');
    const t = capture();
    const argv = ['train', 'simclr', '--limit', '16', '--batch-size', '8', '--max-steps', '2'];
    expect(
      await main(
        [...argv, '--engine', 'onnxruntime', '--optimizer', 'sgd', '--no-report', '--out', run],
        t.io,
      ),
    ).toBe(0);
    expect(t.err).toContain('engine: onnxruntime');
    const info = JSON.parse(await readFile(join(run, 'run.json'), 'utf8'));
    expect(info.engine).toBe('onnxruntime');
    expect(info.config.engine).toBe('onnxruntime');
    const inspected = capture();
    expect(await main(['inspect', run], inspected.io)).toBe(0);
    expect(inspected.out.join('\n')).toMatch(/engine: onnxruntime/);
  });

  it('an explicit onnxruntime engine that cannot compile the run fails in one line naming it', {
    timeout: 300_000,
  }, async () => {
    const t = capture();
    const argv = ['train', 'simclr', '--limit', '16', '--batch-size', '8', '--max-steps', '1'];
    const code = await main(
      [
        ...argv,
        '--engine',
        'onnxruntime',
        '--local-crops',
        '2',
        '--no-report',
        '--out',
        join(dir, 'mc'),
      ],
      t.io,
    );
    expect(code).not.toBe(0);
    const last = t.err.at(-1)!;
    expect(last).toMatch(/UNSUPPORTED|multiCrop/);
    expect(last.split('\n')).toHaveLength(1);
  });
});
