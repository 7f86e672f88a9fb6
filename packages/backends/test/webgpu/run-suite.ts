// Runs files of the kernel suite (test/wasm-training/) on webgpu: a child vitest whose
// environment points Vulkan at Chromium's SwiftShader before the process starts (Dawn loads
// libvulkan.so.1 and the loader reads VK_ICD_FILENAMES at startup) and sets
// EBM_KERNEL_BACKEND=webgpu, which compare.ts reads. Returns the child's per-test results.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
export const hasIcd = existsSync(ICD);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export interface SuiteTest {
  name: string;
  status: string;
  failure?: string;
}

export function runSuiteOnWebGPU(
  files: string[],
  options: { exclude?: string; timeoutMs?: number } = {},
): SuiteTest[] {
  const dir = mkdtempSync(join(tmpdir(), 'ebm-webgpu-suite-'));
  const out = join(dir, 'results.json');
  try {
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--project',
        '@ebmjs/backends',
        '--reporter=json',
        `--outputFile=${out}`,
        ...(options.exclude ? ['-t', `^(?!.*(${options.exclude}))`] : []),
        ...files.map((f) => join('packages', 'backends', 'test', 'wasm-training', f)),
      ],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: options.timeoutMs ?? 150_000,
        env: {
          ...process.env,
          EBM_BACKEND: '',
          EBM_KERNEL_BACKEND: 'webgpu',
          VK_ICD_FILENAMES: ICD,
          LD_LIBRARY_PATH: [dirname(ICD), process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':'),
        },
      },
    );
    if (!existsSync(out))
      throw new Error(
        `the webgpu suite wrote no results (exit ${r.status}): ${r.stderr.slice(-2000)}`,
      );
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      testResults: {
        assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
      }[];
    };
    return report.testResults.flatMap((f) =>
      f.assertionResults.map((a) => ({
        name: a.fullName,
        status: a.status,
        ...(a.failureMessages.length ? { failure: a.failureMessages[0]!.split('\n')[0] } : {}),
      })),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
