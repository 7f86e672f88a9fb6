import { describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('ebm', () => {
  it('prints usage listing every command and exits 0 for --help', async () => {
    const { io, out } = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/Usage: ebm <command>/);
    expect(out.join('\n')).toMatch(/demo/);
  });

  it('exits non-zero with usage when no command is given', async () => {
    const { io, out } = capture();
    expect(await main([], io)).toBe(1);
    expect(out.join('\n')).toMatch(/Usage/);
  });

  it('rejects an unknown command with one line on stderr and exit code 2', async () => {
    const { io, err } = capture();
    expect(await main(['trian'], io)).toBe(2);
    expect(err).toEqual([expect.stringMatching(/^ebm: unknown command "trian". Commands: .*demo/)]);
  });

  it('prints per-command help', async () => {
    const { io, out } = capture();
    expect(await main(['demo', '--help'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/^Usage: ebm demo/);
  });
});
