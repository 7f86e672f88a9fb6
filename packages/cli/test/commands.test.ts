import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
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

describe('bad input: one line on stderr, exit code 2', () => {
  const cases: [string[], RegExp][] = [
    [['train'], /missing recipe/],
    [
      ['train', 'simclrr'],
      /unknown recipe "simclrr". Recipes: simclr, moco, pirl, byol, simsiam, vicreg, barlow-twins/,
    ],
    [['train', 'simclr', '--epochz', '3'], /Unknown option '--epochz'/],
    [
      ['train', 'simclr', '--epochs', 'three'],
      /--epochs must be an integer >= 1, received "three"/,
    ],
    [
      ['train', 'simclr', '--dataset', '/no/such/dir'],
      /--dataset must be mnist, fashion-mnist, cifar10, cifar100, stl10 or a directory/,
    ],
    [
      ['export', '/no/such/run', '--out', 'x.onnx'],
      /no such run or encoder directory: \/no\/such\/run/,
    ],
    [['export', '/no/such/run'], /missing --out/],
    [['embed', 'model.onnx'], /usage: ebm embed model.onnx <files or dirs...>/],
    [['bench', '--model', 'vgg'], /--model must be one of conv, resnet18, received "vgg"/],
    [
      ['lab', '--dataset', 'spirals'],
      /--dataset takes a comma list of moons, 8gaussians, .*"spirals"/,
    ],
    [['lab', '--methods', 'ml,vae'], /--methods takes a comma list of ml, cd, pcd, nce, dsm, dae/],
    [['lab', '--rbm-methods', ''], /--rbm-methods must not be empty/],
    [['lab', '--steps', '0'], /--steps must be an integer >= 1, received "0"/],
  ];
  it.each(cases)('ebm %j', async (argv, message) => {
    const { io, err } = capture();
    expect(await main(argv, io)).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });
});

describe('train → export → embed → eval on a small MNIST subset', () => {
  let dir = '';
  const env = process.env.EBM_BACKEND;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-cli-'));
    // The pure-JS cpu backend can train conv nets everywhere (slowly): enough for 2 small steps.
    process.env.EBM_BACKEND = 'cpu';
  });
  afterAll(() => {
    if (env === undefined) delete process.env.EBM_BACKEND;
    else process.env.EBM_BACKEND = env;
  });

  it('runs every stage and writes what it promises', { timeout: 300_000 }, async () => {
    const run = join(dir, 'run');
    const t = capture();
    expect(
      await main(
        ['train', 'simclr', '--limit', '32', '--batch-size', '8', '--max-steps', '2', '--out', run],
        t.io,
      ),
    ).toBe(0);
    expect(t.out.join('\n')).toMatch(/trained simclr for 2 steps/);
    const info = JSON.parse(await readFile(join(run, 'run.json'), 'utf8'));
    expect(info.recipe).toBe('simclr');
    expect((await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);

    const onnx = join(dir, 'model.onnx');
    const e = capture();
    expect(await main(['export', run, '--out', onnx], e.io)).toBe(0);
    expect((await stat(onnx)).size).toBeGreaterThan(1000);

    const images = join(dir, 'images');
    await mkdir(images);
    for (let i = 0; i < 3; i++) {
      await sharp({
        create: {
          width: 28,
          height: 28,
          channels: 3,
          background: { r: 40 * i, g: 40 * i, b: 40 * i },
        },
      })
        .png()
        .toFile(join(images, `${i}.png`));
    }
    const out = join(dir, 'emb.jsonl');
    const m = capture();
    expect(await main(['embed', onnx, images, '--out', out], m.io)).toBe(0);
    const rows = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(3);
    expect(rows[0].embedding).toHaveLength(128);

    const v = capture();
    expect(
      await main(['eval', run, '--train-limit', '100', '--test-limit', '50', '--k', '10'], v.io),
    ).toBe(0);
    expect(v.out.join('\n')).toMatch(/kNN accuracy \d+\.\d+% {2}linear probe \d+\.\d+%/);
  });
});

describe('ebm lab', () => {
  it('trains the chosen 2-D methods, prints the NLL table and writes its files', {
    timeout: 120_000,
  }, async () => {
    const env = process.env.EBM_BACKEND;
    process.env.EBM_BACKEND = 'cpu';
    const out = join(await mkdtemp(join(tmpdir(), 'ebm-lab-')), 'lab');
    try {
      const c = capture();
      const code = await main(
        [
          'lab',
          '--dataset',
          '8gaussians',
          '--methods',
          'ml,nce',
          '--steps',
          '40',
          '--no-rbm',
          '--out',
          out,
        ],
        c.io,
      );
      expect(code).toBe(0);
      const text = c.out.join('\n');
      expect(text).toMatch(
        /\| 8 Gaussians \| 2\.811 \| 4\.201 \| \**\d\.\d{3}\** \| \**\d\.\d{3}\**( ✗)? \|/,
      );
      expect(text).toMatch(new RegExp(`results in ${out}`));
      expect(c.err.join('\n')).toMatch(/8gaussians\/nce step 40\/40/);
      const json = JSON.parse(await readFile(join(out, 'table.json'), 'utf8'));
      const row = json.toy.rows[0];
      expect(Object.keys(row.methods)).toEqual(['ml', 'nce']);
      // 40 steps of exact-Z maximum likelihood already beat the single fitted Gaussian.
      expect(row.methods.ml.nll).toBeLessThan(row.gaussianNll);
      expect(json.rbm).toBeNull();
      for (const f of ['table.md', 'energies.png', 'report.html'])
        expect((await stat(join(out, f))).size).toBeGreaterThan(100);
      // report.html is the shared report template: the lab's tables and picture, a loss curve
      // per dataset with one line per method, the settings and backend.
      const html = await readFile(join(out, 'report.html'), 'utf8');
      expect(html).toContain('<h2>Training loss per step</h2>');
      expect(html.match(/<polyline class="series" data-name="(ml|nce)"/g)).toHaveLength(2);
      expect(html).toContain('<h2>2-D energies: test NLL (nats)</h2>');
      expect(html).toMatch(/<img alt="energy surfaces" [^>]*src="data:image\/png;base64,/);
      expect(html).toMatch(/<th>backend<\/th><td>cpu/);
    } finally {
      if (env === undefined) delete process.env.EBM_BACKEND;
      else process.env.EBM_BACKEND = env;
    }
  });
});
