import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

// web-infer and export throw the one EbmError of @ebmjs/contract, so their errors reach the
// user as one line and exit 2 like every other bad input (they were "unexpected error", exit 1).
describe('errors from @ebmjs/web-infer are usage errors of the CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-cli-errors-'));
    await writeFile(
      join(dir, 'garbage.onnx'),
      new Uint8Array([0x08, 0xff, 0xff, 0xff, 0x01, 0x42]),
    );
    await writeFile(join(dir, 'x.png'), new Uint8Array([1, 2, 3]));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ebm embed /no/such.onnx x.png prints one line and exits 2', async () => {
    const { io, err } = capture();
    expect(await main(['embed', '/no/such.onnx', join(dir, 'x.png')], io)).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^ebm embed: .*\/no\/such\.onnx/);
    expect(err[0]).not.toMatch(/unexpected error/);
  });

  it('a corrupt model file is CORRUPT_FILE from web-infer: one line, exit 2', async () => {
    const { io, err } = capture();
    const code = await main(['embed', join(dir, 'garbage.onnx'), join(dir, 'x.png')], io);
    expect(err).toHaveLength(1);
    expect(err[0]).not.toMatch(/unexpected error/);
    expect(err[0]).toMatch(/^ebm embed: /);
    expect(code).toBe(2);
  });
});
