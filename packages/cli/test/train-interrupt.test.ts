import { mkdir, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe('ebm train: Ctrl-C and resume settings', () => {
  let dir: string;
  let images: string;
  const env = process.env.EBM_BACKEND;
  beforeAll(async () => {
    process.env.EBM_BACKEND = 'wasm';
    dir = await mkdtemp(join(tmpdir(), 'ebm-cli-interrupt-'));
    images = join(dir, 'images');
    // 8 tiny 8×8 images in two classes: the default ConvNet takes milliseconds per step.
    for (let i = 0; i < 8; i++) {
      const folder = join(images, i % 2 ? 'b' : 'a');
      await mkdir(folder, { recursive: true });
      const pixels = Buffer.from(
        Array.from({ length: 8 * 8 * 3 }, (_, j) => (j * 37 + i * 91) % 256),
      );
      await sharp(pixels, { raw: { width: 8, height: 8, channels: 3 } })
        .png()
        .toFile(join(folder, `${i}.png`));
    }
  });
  afterAll(() => {
    if (env === undefined) delete process.env.EBM_BACKEND;
    else process.env.EBM_BACKEND = env;
  });

  it('SIGINT writes a checkpoint and stops (exit 130); --resume continues from it', async () => {
    const run = join(dir, 'run');
    const args = ['train', 'simclr', '--dataset', images, '--batch-size', '4', '--out', run];
    // Far more epochs than the test waits for: only the interrupt ends this run.
    const before = process.listeners('SIGINT');
    const poll = setInterval(async () => {
      if (!(await exists(join(run, 'checkpoint', 'training')))) return;
      clearInterval(poll);
      // Deliver SIGINT to the command's handler (a real signal would also reach vitest's).
      for (const l of process.listeners('SIGINT'))
        if (!before.includes(l)) (l as (s: string) => void)('SIGINT');
    }, 10);
    const t = capture();
    const code = await main([...args, '--epochs', '100000', '--checkpoint-every-steps', '1'], t.io);
    clearInterval(poll);
    expect(t.err.join('\n')).toMatch(/interrupted: writing a checkpoint/);
    expect(code).toBe(130);
    const text = t.out.join('\n');
    expect(text).toMatch(/\(aborted\).*continue with --resume/);
    const steps = Number(/for (\d+) steps/.exec(text)![1]);
    expect(steps).toBeGreaterThan(0);
    expect(process.listeners('SIGINT')).toEqual(before);

    const r = capture();
    expect(
      await main(
        [...args, '--epochs', '100000', '--resume', '--max-steps', String(steps + 1)],
        r.io,
      ),
    ).toBe(0);
    expect(r.out.join('\n')).toMatch(/trained simclr for 1 steps .*\(maxSteps\)/);

    // The optimizer is part of the fingerprint: sgd on an adam checkpoint is refused, naming it.
    const o = capture();
    const refused = await main(
      [...args, '--epochs', '100000', '--resume', '--optimizer', 'sgd'],
      o.io,
    );
    expect(refused).not.toBe(0);
    expect(o.err.join('\n')).toMatch(/optimizer\.name: checkpoint "adam", this run "sgd"/);
  });
});
