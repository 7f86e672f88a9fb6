import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeSupportsWasmThreads, workerExecArgv } from '../../src/wasm-training/node-threads.js';

// The pthread workers run tfjs's CommonJS worker source. A worker inherits the parent's
// execArgv, so before the fix `--input-type=module` (a script from -e or standard input) made
// every worker die with "require is not defined in ES module scope". Each way of starting
// Node below runs the same probe: wasm on 2 threads, then a matMul on them.
const here = dirname(fileURLToPath(import.meta.url));
const corePackage = join(here, '..', '..');
// Under the package's node_modules so the bundles resolve @tensorflow/* like an installed app.
const out = join(corePackage, 'node_modules', '.cache', `launch-modes-${process.pid}`);
const probeFile = join(out, 'probe.mjs');
const probeUrl = pathToFileURL(probeFile).href;
const expected = { backend: 'wasm', threads: nodeSupportsWasmThreads() ? 2 : 1, sum: 64 ** 3 };

beforeAll(async () => {
  mkdirSync(out, { recursive: true });
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    conditions: ['source'],
    external: ['@tensorflow/*'],
    logLevel: 'error' as const,
  };
  await build({ ...common, entryPoints: [join(here, 'launch', 'probe.ts')], outfile: probeFile });
  await build({
    ...common,
    entryPoints: [join(here, 'launch', 'app.ts')],
    outfile: join(out, 'app.mjs'),
  });
  writeFileSync(
    join(out, 'run.mjs'),
    "import { probe } from './probe.mjs';\nconsole.log(await probe());\n",
  );
}, 60_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

function runNode(args: string[], input?: string) {
  const result = spawnSync(process.execPath, args, {
    cwd: corePackage,
    input,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, EBM_BACKEND: '', EBM_WASM_THREADS: '' },
  });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

const esmScript = `const { probe } = await import(${JSON.stringify(probeUrl)}); console.log(await probe());`;
const cjsScript = `import(${JSON.stringify(probeUrl)}).then((m) => m.probe()).then(console.log);`;

const modes: [string, string[], string?][] = [
  ['a file', [join(out, 'run.mjs')]],
  ['a bundled single file', [join(out, 'app.mjs')]],
  ['node -e (CommonJS)', ['-e', cjsScript]],
  ['node --input-type=module -e', ['--input-type=module', '-e', esmScript]],
  ['an ES module on standard input', ['--input-type=module'], esmScript],
  ['CommonJS on standard input', [], cjsScript],
  [
    'a CommonJS require of the ES module build',
    ['-e', `require(${JSON.stringify(probeFile)}).probe().then(console.log);`],
  ],
  [
    'node --experimental-default-type=module',
    ['--no-warnings', '--experimental-default-type=module', join(out, 'run.mjs')],
  ],
];

describe('threaded wasm starts however Node was started', () => {
  it.each(modes)('from %s', (_name, args, input) => {
    const { status, stdout, stderr } = runNode(args, input);
    expect(stderr).not.toMatch(/require is not defined/);
    expect(status, stderr).toBe(0);
    expect(JSON.parse(stdout.split('\n').at(-1)!)).toEqual(expected);
  });
});

describe('workerExecArgv', () => {
  it('drops the flags that would make the CommonJS worker source an ES module, and the parent script', () => {
    expect(
      workerExecArgv([
        '--input-type=module',
        '-e',
        'code',
        '--max-old-space-size=4096',
        '--input-type',
        'module',
        '--eval=more',
        '--import',
        'tsx',
        '-p',
        '1',
      ]),
    ).toEqual(['--max-old-space-size=4096', '--import', 'tsx']);
  });
});
