import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mlpEncoder, saveModel } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

useCpuBackend();

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('ebm export --triton', () => {
  let dir = '';
  let encoderDir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-triton-'));
    encoderDir = join(dir, 'mnist-encoder');
    const encoder = mlpEncoder({ inputShape: [28, 28, 1], hiddenUnits: [16], embeddingDim: 8 });
    await saveModel(encoder, encoderDir);
    encoder.model.dispose();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes <repo>/<name>/config.pbtxt and <name>/1/model.onnx with the flags applied', async () => {
    const repo = join(dir, 'repo');
    const c = capture();
    const argv = ['export', encoderDir, '--triton', repo, '--name', 'mnist', '--max-batch', '16'];
    expect(await main([...argv, '--triton-device', 'gpu'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/wrote Triton model "mnist"/);
    const config = await readFile(join(repo, 'mnist', 'config.pbtxt'), 'utf8');
    expect(config).toMatch(/^name: "mnist"$/m);
    expect(config).toMatch(/^max_batch_size: 16$/m);
    expect(config).toMatch(/dims: \[ 28, 28, 1 \]/);
    expect(config).toMatch(/dims: \[ 8 \]/);
    expect(config).toMatch(/kind: KIND_GPU/);
    expect(config).toMatch(/key: "ebmjs.preprocessing.scale"/);
    expect((await readFile(join(repo, 'mnist', '1', 'model.onnx'))).byteLength).toBeGreaterThan(
      500,
    );
  });

  it('with --out too: one export, the same bytes in both places, named after the file', async () => {
    const repo = join(dir, 'repo2');
    const out = join(dir, 'digits.onnx');
    expect(await main(['export', encoderDir, '--out', out, '--triton', repo], capture().io)).toBe(
      0,
    );
    const model = await readFile(join(repo, 'digits', '1', 'model.onnx'));
    expect(model.equals(await readFile(out))).toBe(true);
    expect(await readFile(join(repo, 'digits', 'config.pbtxt'), 'utf8')).toMatch(
      /^max_batch_size: 64$/m,
    );
  });

  it.each([
    [['--name', 'x'], /--name needs --triton <repo-dir>/],
    [
      ['--triton', 'r', '--max-batch', '1.5'],
      /--max-batch must be an integer >= 0, received "1.5"/,
    ],
    [['--triton', 'r', '--triton-device', 'tpu'], /--triton-device must be one of gpu, cpu, auto/],
  ])('bad flags %j: one line, exit 2', async (flags, message) => {
    const c = capture();
    const args = [
      'export',
      encoderDir,
      ...(flags[0] === '--name' ? ['--out', 'x.onnx'] : []),
      ...flags,
    ];
    expect(await main(args, c.io)).toBe(2);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(message);
  });
});
