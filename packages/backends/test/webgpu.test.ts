import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Dawn loads libvulkan.so.1 and the Vulkan loader reads VK_ICD_FILENAMES when the process
// starts, so the webgpu runs are child processes pointed at Chromium's SwiftShader (a CPU
// Vulkan driver). Debian's chromium ships its own libvulkan.so.1 next to the ICD.
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const hasIcd = existsSync(ICD);
if (!hasIcd) console.log(`webgpu tests skipped: no SwiftShader Vulkan ICD at ${ICD}`);
const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const out = join(pkg, 'node_modules', '.cache', `webgpu-${process.pid}`);
const probe = join(out, 'probe.mjs');

beforeAll(async () => {
  if (!hasIcd) return;
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(here, 'webgpu', 'probe.ts')],
    outfile: probe,
    bundle: true,
    platform: 'node',
    format: 'esm',
    conditions: ['source'],
    external: ['@tensorflow/*', 'webgpu'],
    logLevel: 'error',
  });
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

function run(mode: string) {
  const r = spawnSync(process.execPath, [probe, mode], {
    cwd: pkg,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      EBM_BACKEND: '',
      VK_ICD_FILENAMES: ICD,
      LD_LIBRARY_PATH: [dirname(ICD), process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':'),
    },
  });
  if (r.status !== 0) throw new Error(`probe ${mode} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe.skipIf(!hasIcd)('webgpu in Node on Dawn (SwiftShader)', () => {
  it('EBM_BACKEND=webgpu starts on the SwiftShader adapter and reports it as software', () => {
    const { info, relErrors } = run('forced');
    expect(info).toMatchObject({ candidate: 'webgpu', backend: 'webgpu', device: 'gpu' });
    expect(info.adapter).toMatchObject({
      vendor: 'google',
      architecture: 'swiftshader',
      software: true,
    });
    expect(info.notes.join(' ')).toMatch(/software rasteriser/);
    // conv2d, batchNorm, maxPool, relu forward, both Conv2D gradients and a matMul, against the cpu backend.
    expect(relErrors).toHaveLength(4);
    for (const e of relErrors) expect(e).toBeLessThanOrEqual(1e-4);
  });

  it('a tiny conv net trains on webgpu: the loss falls over 6 Adam steps', () => {
    const { losses } = run('train');
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[5]).toBeLessThan(0.8 * losses[0]);
  });

  it('the default Node order refuses a software adapter and falls through to wasm', () => {
    const { candidate, attempts } = run('default');
    expect(candidate).toBe('wasm');
    const webgpu = attempts.find((a: { candidate: string }) => a.candidate === 'webgpu');
    expect(webgpu.ok).toBe(false);
    expect(webgpu.reason).toMatch(/software rasteriser .*used only when asked for/);
  });
});
