import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../web-infer/test/fixtures');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('ebm inspect', () => {
  let dir = '';
  const env = process.env.EBM_BACKEND;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-inspect-'));
    process.env.EBM_BACKEND = 'cpu';
  });
  afterAll(async () => {
    if (env === undefined) delete process.env.EBM_BACKEND;
    else process.env.EBM_BACKEND = env;
    await rm(dir, { recursive: true, force: true });
  });

  it('an .onnx file: inputs, outputs, embedding size and ebm.js metadata', async () => {
    const t = capture();
    expect(await main(['inspect', join(fixtures, 'conv-rgb-nchw.onnx'), '--json'], t.io)).toBe(0);
    const r = JSON.parse(t.out.join('\n'));
    expect(r.kind).toBe('onnx');
    expect(r.inputs).toHaveLength(1);
    expect(r.inputs[0].type).toBe('float32');
    expect(r.inputs[0].shape).toHaveLength(4);
    expect(r.embeddingDim).toBe(r.outputs[0].shape.at(-1));
    expect(Object.keys(r.metadata).length).toBeGreaterThan(0);
    const text = capture();
    expect(await main(['inspect', join(fixtures, 'mlp.onnx')], text.io)).toBe(0);
    expect(text.out.join('\n')).toMatch(/^ONNX model .*mlp\.onnx/);
    expect(text.out.join('\n')).toMatch(/input \S+: float32 \[/);
    expect(text.out.join('\n')).toMatch(/embedding size: /);
  });

  it('a run directory: recipe, settings, epochs and steps, losses, files', {
    timeout: 300_000,
  }, async () => {
    const run = join(dir, 'run');
    const argv = ['train', 'simclr', '--limit', '32', '--batch-size', '8', '--max-steps', '2'];
    expect(await main([...argv, '--log-every', '1', '--out', run], capture().io)).toBe(0);
    const t = capture();
    expect(await main(['inspect', run, '--json'], t.io)).toBe(0);
    const r = JSON.parse(t.out.join('\n'));
    expect(r).toMatchObject({
      kind: 'run',
      recipe: 'simclr',
      dataset: 'mnist',
      stopReason: 'maxSteps',
      epochsDone: 0,
      stepsLogged: 2,
      files: { checkpoint: true, encoder: true, onnx: [] },
    });
    expect(r.settings.batchSize).toBe(8);
    expect(r.lastLosses).toHaveLength(1);
    const text = capture();
    expect(await main(['inspect', run], text.io)).toBe(0);
    expect(text.out[0]).toBe(`run ${run}: simclr on mnist`);
    expect(text.out.join('\n')).toMatch(/files: checkpoint\/, encoder\//);
  });

  it('errors are one line: no such path, not a run dir, not ONNX', async () => {
    const notRun = join(dir, 'empty');
    await mkdir(notRun, { recursive: true });
    const junk = join(dir, 'junk.onnx');
    await writeFile(junk, 'not a model at all');
    const cases: [string[], number, RegExp][] = [
      [['inspect'], 2, /missing path/],
      [['inspect', join(dir, 'nope')], 2, /no such run directory or model file/],
      [['inspect', notRun], 2, /is not a run directory/],
      [['inspect', junk], 2, /not a valid ONNX model|not an ONNX model/],
    ];
    for (const [argv, code, message] of cases) {
      const t = capture();
      expect(await main(argv, t.io)).toBe(code);
      expect(t.err).toHaveLength(1);
      expect(t.err[0]).toMatch(message);
    }
  });
});
