import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useCpuBackend } from '@ebmjs/test-utils';
import { build } from 'vite';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMetrics } from '../src/node.js';
import { RESUME_RECIPES, runRecipe } from './fixtures/resume-setup.js';

useCpuBackend();

const here = dirname(fileURLToPath(import.meta.url));
const trainRoot = join(here, '..');
// Everything (tfjs included) is bundled: one tfjs instance, nothing to resolve at run time.
const outDir = join(trainRoot, 'node_modules', '.cache', 'ebm-resume-child');
const childScript = join(outDir, 'resume-child.mjs');

beforeAll(async () => {
  // Node cannot run the TypeScript sources: bundle the child (workspace packages from their
  // sources) once.
  await build({
    configFile: false,
    logLevel: 'warn',
    root: trainRoot,
    // "node" too: custom conditions replace Vite's defaults, and `#node-io` must be the Node one.
    resolve: { conditions: ['source', 'node'] },
    ssr: { noExternal: true, resolve: { conditions: ['source', 'node'] } },
    build: {
      ssr: join(here, 'fixtures', 'resume-child.ts'),
      outDir,
      emptyOutDir: true,
      minify: false,
      target: 'node20',
      rollupOptions: {
        output: {
          entryFileNames: 'resume-child.mjs',
          format: 'es',
          // tfjs's Node platform calls require().
          banner:
            "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        },
      },
    },
  });
});

/** Starts the child and resolves once it reported `until` (its stdout lines, parsed). */
function startChild(args: string[], until: number) {
  const child: ChildProcess = spawn(process.execPath, [childScript, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: { globalStep?: number; checkpointed?: boolean; done?: boolean }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  const reached = new Promise<typeof lines>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d) => {
      buffer += String(d);
      let cut = buffer.indexOf('\n');
      while (cut >= 0) {
        const line = JSON.parse(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 1);
        lines.push(line);
        if (line.globalStep === until) resolve(lines);
        cut = buffer.indexOf('\n');
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) early: ${stderr}`)));
  });
  const killed = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  return { child, reached, killed };
}

describe('kill -9 mid-epoch, then resume', () => {
  for (const recipe of RESUME_RECIPES) {
    it(`${recipe}: the resumed run equals the uninterrupted one bit for bit`, async () => {
      const runDir = await mkdtemp(join(tmpdir(), `ebm-kill-${recipe}-`));
      try {
        // 2 epochs of 4 steps; checkpoints after steps 3 (mid-epoch 0), 4 (epoch end) and
        // 6 (mid-epoch 1). The child stalls after step 7 and is killed: step 7 is lost.
        const { child, reached, killed } = startChild([recipe, runDir, '7'], 7);
        const lines = await reached;
        expect(lines.find((l) => l.globalStep === 6)?.checkpointed).toBe(true);
        expect(lines.find((l) => l.globalStep === 7)?.checkpointed).toBe(false);
        child.kill('SIGKILL');
        expect(await killed).toBe('SIGKILL');

        // The log has the epoch the checkpoint has; the resume continues at epoch 1, step 2.
        expect((await readMetrics(join(runDir, 'metrics.jsonl'))).map((r) => r.epoch)).toEqual([0]);
        const resumed = await runRecipe(recipe, { runDir, resume: true });
        const straight = await runRecipe(recipe);
        expect(resumed.steps).toBe(2);
        expect(resumed.losses).toEqual(straight.losses);
        expect(resumed.state).toEqual(straight.state);
        expect((await readMetrics(join(runDir, 'metrics.jsonl'))).map((r) => r.loss)).toEqual(
          straight.losses,
        );
      } finally {
        await rm(runDir, { recursive: true, force: true });
      }
    });
  }
});
