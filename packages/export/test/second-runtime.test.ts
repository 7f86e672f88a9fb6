import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convEncoder, mlpEncoder, pirlHeads, projectionHead, resnet18 } from '@ebmjs/models';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx } from '../src/index.js';
import { Rng, randomizeWeights, uniform } from './helpers.js';
import { randomImageNet, randomVectorNet } from './random-nets.js';

/**
 * Issue 14, item 6: onnxruntime is not the only judge. Every test model is exported, run on
 * onnxruntime-node, then handed to scripts/check_onnx.py, which runs ONNX's own full checker
 * (Debian python3-onnx 1.12) and a second, independent runtime (OpenCV DNN, python3-opencv 4.6)
 * and compares OpenCV's outputs with onnxruntime's.
 */

useCpuBackend();

/** EBMJS_PYTHON overrides the interpreter (Debian's, where apt installs python3-onnx/-opencv). */
const PYTHON = process.env['EBMJS_PYTHON'] || '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../scripts/check_onnx.py', import.meta.url));
const TOLERANCE = 1e-4;
/** Sizes given to free (null) spatial axes, and the batch size. */
const FREE_SIZES = [10, 14];
const BATCH = 2;

// Why OpenCV 4.6 refuses some valid models. Each construct is also what torch.onnx emits (or has
// no simpler valid form), so it stays; OpenCV 4.7+ imports them.
const CLIP_INPUTS =
  'ReLU6 is Clip with min/max inputs (opset 11+, as torch.onnx emits); the 4.6 importer only takes the opset-6 attribute form';
const MAX_CONSTANT =
  "L2 normalization's max(Σx², ε²) is Max with a constant operand; 4.6's Max (Eltwise) needs two computed inputs (torch's Clip form is refused too)";
const LAYER_NORM =
  'LayerNormalization needs x − mean(x) broadcast between two computed tensors; 4.6 has no such broadcast (nor the LayerNormalization op)';
const PRELU_SLOPE =
  "tfjs PReLU's slope covers [h, w, c] and, on NHWC input, runs before the layout Transpose; 4.6's PRelu takes one slope per axis-1 channel";

/**
 * Models OpenCV 4.6's ONNX importer cannot run at all, with the reason. Asserted exactly, so the
 * list cannot grow silently.
 */
const OPENCV_CANNOT_RUN: Record<string, string> = {
  random_image_1_NHWC: PRELU_SLOPE,
  random_image_19_NHWC: PRELU_SLOPE,
  random_image_3_NHWC: CLIP_INPUTS,
  random_image_3_NCHW: CLIP_INPUTS,
  random_image_7_NHWC: CLIP_INPUTS,
  random_image_7_NCHW: CLIP_INPUTS,
  random_image_13_NHWC: CLIP_INPUTS,
  random_image_13_NCHW: CLIP_INPUTS,
  random_image_17_NHWC: CLIP_INPUTS,
  random_image_17_NCHW: CLIP_INPUTS,
  random_image_22_NHWC: CLIP_INPUTS,
  random_image_22_NCHW: CLIP_INPUTS,
  random_vector_3: LAYER_NORM,
  random_vector_5: LAYER_NORM,
  random_vector_8: LAYER_NORM,
  random_vector_10: LAYER_NORM,
  mlp_encoder_bn_with_head_NHWC: MAX_CONSTANT,
  mlp_encoder_bn_with_head_NCHW: MAX_CONSTANT,
  conv_encoder_with_head_NHWC: MAX_CONSTANT,
  conv_encoder_with_head_NCHW: MAX_CONSTANT,
  conv_encoder_free_NHWC: MAX_CONSTANT,
  conv_encoder_free_NCHW: MAX_CONSTANT,
  mlp_encoder_l2: MAX_CONSTANT,
  projection_head: MAX_CONSTANT,
};

/**
 * Models OpenCV 4.6 runs correctly with its layer fusion off (the per-operator semantics, which
 * every model is held to) but wrongly with it on, its default: it folds a BatchNormalization that
 * follows an Add into the Add's inputs. Asserted exactly as well.
 */
const OPENCV_FUSION_WRONG: Record<string, string> = {
  random_vector_9: 'BatchNormalization after Add (residual) is fused wrongly by OpenCV 4.6',
};

type Sym = tfl.SymbolicTensor;
type Layout = 'NHWC' | 'NCHW';

interface Case {
  name: string;
  layout: Layout;
  build: () => tfl.LayersModel;
}

function withHead(encoder: tfl.LayersModel, head: tfl.LayersModel): tfl.LayersModel {
  const input = tfl.input({ shape: encoder.inputs[0]!.shape.slice(1) });
  return tfl.model({
    inputs: input,
    outputs: head.apply(encoder.apply(input)) as Sym,
    name: `${encoder.name}_with_head`,
  });
}

function randomized<T extends tfl.LayersModel>(model: T, seed: number): T {
  randomizeWeights(model, seed);
  return model;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (let seed = 1; seed <= 24; seed++) {
    for (const layout of ['NHWC', 'NCHW'] as const) {
      out.push({
        name: `random_image_${seed}_${layout}`,
        layout,
        build: () => randomized(randomImageNet(seed), 1000 + seed),
      });
    }
  }
  for (let seed = 1; seed <= 12; seed++) {
    out.push({
      name: `random_vector_${seed}`,
      layout: 'NHWC',
      build: () => randomized(randomVectorNet(seed), 2000 + seed),
    });
  }
  const mlpBn = () =>
    randomized(
      mlpEncoder({
        inputShape: [4, 4, 2],
        hiddenUnits: [16, 8],
        embeddingDim: 8,
        batchNorm: true,
        seed: 1,
      }).model,
      1,
    );
  const head = (inputDim: number, seed: number) =>
    randomized(
      projectionHead({ inputDim, hiddenDim: 8, outputDim: 4, l2Normalize: true, seed }).model,
      seed,
    );
  const conv = () =>
    randomized(
      convEncoder({ inputShape: [12, 12, 1], channels: [4, 8, 8], embeddingDim: 6, seed: 3 }).model,
      3,
    );
  const convFree = () =>
    randomized(
      convEncoder({ inputShape: [null, null, 3], channels: [4, 4], l2Normalize: true, seed: 5 })
        .model,
      5,
    );
  const resnet = (stem: 'cifar' | 'imagenet') =>
    randomized(
      resnet18({
        inputShape: stem === 'cifar' ? [16, 16, 3] : [32, 32, 3],
        stem,
        width: 8,
        seed: 6,
      }).model,
      6,
    );
  const pirl = () => {
    const trunk = convEncoder({ inputShape: [null, null, 3], channels: [4, 8], seed: 9 });
    const heads = pirlHeads({
      encoder: trunk,
      imageShape: [12, 12, 3],
      patchShape: [4, 4, 3],
      projectionDim: 6,
      seed: 10,
    });
    randomizeWeights(heads.joint, 9);
    return heads;
  };
  for (const layout of ['NHWC', 'NCHW'] as const) {
    out.push(
      { name: `mlp_encoder_bn_${layout}`, layout, build: mlpBn },
      {
        name: `mlp_encoder_bn_with_head_${layout}`,
        layout,
        build: () => withHead(mlpBn(), head(8, 2)),
      },
      { name: `conv_encoder_${layout}`, layout, build: conv },
      {
        name: `conv_encoder_with_head_${layout}`,
        layout,
        build: () => withHead(conv(), head(6, 4)),
      },
      { name: `conv_encoder_free_${layout}`, layout, build: convFree },
      { name: `resnet18_cifar_${layout}`, layout, build: () => resnet('cifar') },
      { name: `resnet18_imagenet_${layout}`, layout, build: () => resnet('imagenet') },
      { name: `pirl_trunk_free_${layout}`, layout, build: () => pirl().encoder },
      { name: `pirl_f_${layout}`, layout, build: () => pirl().f },
    );
  }
  out.push(
    {
      name: 'mlp_encoder_l2',
      layout: 'NHWC',
      build: () =>
        randomized(
          mlpEncoder({ inputShape: 6, hiddenUnits: [8], embeddingDim: 4, l2Normalize: true }).model,
          11,
        ),
    },
    { name: 'projection_head', layout: 'NHWC', build: () => head(8, 12) },
    // What `ebm demo` exports (encoder.onnx): the default ConvNet on 28×28×1.
    {
      name: 'demo_conv_encoder',
      layout: 'NHWC',
      build: () => randomized(convEncoder({ inputShape: [28, 28, 1], seed: 0 }).model, 13),
    },
    { name: 'pirl_g', layout: 'NHWC', build: () => pirl().g },
  );
  return out;
}

const CASES = cases();

interface TensorEntry {
  name: string;
  file: string;
  dims: number[];
}
interface ManifestEntry {
  name: string;
  file: string;
  inputs: TensorEntry[];
  outputs: TensorEntry[];
}
interface ModelReport {
  name: string;
  checker: string;
  opencv: string;
  /** |OpenCV − onnxruntime| with OpenCV's layer fusion off, and on (OpenCV's default). */
  maxDiff: number | null;
  fusedMaxDiff: number | null;
}

function writeF32(path: string, data: Float32Array): void {
  writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** Concrete input dims in the exported layout: free axes get FREE_SIZES, the batch BATCH. */
function inputDims(shape: (number | null)[], layout: Layout): number[] {
  let free = 0;
  const dims = shape.map((d, axis) => (axis === 0 ? BATCH : (d ?? FREE_SIZES[free++ % 2]!)));
  return dims.length === 4 && layout === 'NCHW' ? [dims[0]!, dims[3]!, dims[1]!, dims[2]!] : dims;
}

async function exportCase(dir: string, c: Case, index: number): Promise<ManifestEntry> {
  const model = c.build();
  const bytes = await exportOnnx(model, { layout: c.layout });
  const file = `${c.name}.onnx`;
  writeFileSync(join(dir, file), bytes);
  const rng = new Rng(500 + index);
  const single = model.inputs.length === 1;
  const feeds: Record<string, ort.Tensor> = {};
  const inputs = model.inputs.map((st, i) => {
    const name = single ? 'input' : `input_${i}`;
    const dims = inputDims(st.shape, c.layout);
    const data = uniform(
      rng,
      dims.reduce((a, b) => a * b, 1),
    );
    feeds[name] = new ort.Tensor('float32', data, dims);
    const entry = { name, file: `${c.name}.in${i}.f32`, dims };
    writeF32(join(dir, entry.file), data);
    return entry;
  });
  model.dispose();
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run(feeds);
    const outputs = session.outputNames.map((name, i) => {
      const t = result[name]!;
      const entry = { name, file: `${c.name}.out${i}.f32`, dims: [...t.dims] };
      writeF32(join(dir, entry.file), t.data as Float32Array);
      return entry;
    });
    return { name: c.name, file, inputs, outputs };
  } finally {
    await session.release();
  }
}

/** Whether /usr/bin/python3 can import what the script needs; the reason when not. */
function pythonProblem(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import cv2, onnx, numpy'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${PYTHON} cannot be started (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} cannot import cv2, onnx, numpy: ${probe.stderr.trim()}`;
  return undefined;
}

const problem = pythonProblem();
const inCi = process.env['CI'] === 'true' || process.env['CI'] === '1';
if (problem !== undefined && !inCi) {
  console.warn(
    `second-runtime.test.ts: SKIPPED (CI is unset): ${problem}. Install python3-onnx, python3-opencv and python3-numpy (apt) to run it.`,
  );
}

describe.skipIf(problem !== undefined && !inCi)(
  'exported models pass onnx.checker (full_check) and run on OpenCV DNN like onnxruntime-node',
  () => {
    const keep = process.env['EBMJS_SECOND_RUNTIME_DIR'] || undefined;
    let dir = '';
    const reports = new Map<string, ModelReport>();

    beforeAll(async () => {
      if (problem !== undefined) throw new Error(`CI=true but ${problem}`);
      // EBMJS_SECOND_RUNTIME_DIR keeps the models, inputs and outputs for a look with Python.
      dir = keep ?? mkdtempSync(join(tmpdir(), 'ebmjs-second-runtime-'));
      mkdirSync(dir, { recursive: true });
      const manifest: ManifestEntry[] = [];
      for (const [i, c] of CASES.entries()) manifest.push(await exportCase(dir, c, i));
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const run = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (run.status !== 0) {
        throw new Error(`check_onnx.py exited with ${run.status}: ${run.stderr.slice(-4000)}`);
      }
      const report = JSON.parse(run.stdout) as { versions: unknown; models: ModelReport[] };
      console.log(`check_onnx.py: ${JSON.stringify(report.versions)}`);
      for (const m of report.models) reports.set(m.name, m);
    }, 600_000);

    afterAll(() => {
      if (dir !== '' && keep === undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('checks every model of the list (36 random nets, the @ebmjs/models encoders, PIRL)', () => {
      expect([...reports.keys()]).toEqual(CASES.map((c) => c.name));
      expect(CASES.filter((c) => c.name.startsWith('random_')).length).toBe(24 * 2 + 12);
    });

    for (const c of CASES) {
      it(`${c.name}: full checker passes; OpenCV matches onnxruntime within ${TOLERANCE}`, () => {
        const r = reports.get(c.name)!;
        expect(r.checker, `${c.name} onnx.checker`).toBe('ok');
        const known = OPENCV_CANNOT_RUN[c.name];
        if (known !== undefined) {
          expect(r.opencv, `${c.name} was expected to be refused by OpenCV (${known})`).not.toBe(
            'ok',
          );
          return;
        }
        expect(r.opencv, `${c.name} OpenCV`).toBe('ok');
        expect(r.maxDiff, `${c.name} max |OpenCV − onnxruntime|`).toBeLessThanOrEqual(TOLERANCE);
        if (OPENCV_FUSION_WRONG[c.name] === undefined) {
          expect(
            r.fusedMaxDiff,
            `${c.name} max |OpenCV (fused) − onnxruntime|`,
          ).toBeLessThanOrEqual(TOLERANCE);
        }
      });
    }

    it('the models OpenCV cannot run are exactly the documented ones', () => {
      const refused = [...reports.values()].filter((r) => r.opencv !== 'ok').map((r) => r.name);
      expect(refused.sort()).toEqual(Object.keys(OPENCV_CANNOT_RUN).sort());
      const fusedWrong = [...reports.values()]
        .filter((r) => r.opencv === 'ok' && !((r.fusedMaxDiff ?? Infinity) <= TOLERANCE))
        .map((r) => r.name);
      expect(fusedWrong.sort()).toEqual(Object.keys(OPENCV_FUSION_WRONG).sort());
      const worst = Math.max(...[...reports.values()].map((r) => r.maxDiff ?? 0));
      console.log(
        `OpenCV DNN vs onnxruntime-node: ${reports.size - refused.length} of ${reports.size} models run, worst max |diff| ${worst.toExponential(2)} (fusion off)`,
      );
    });
  },
);
