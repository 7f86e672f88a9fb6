import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useCpuBackend } from '@ebmjs/test-utils';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import textformat from 'protobufjs/ext/textformat.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  exportOnnx,
  type TritonRepositoryOptions,
  tritonConfig,
  writeTritonRepository,
} from '../src/index.js';

useCpuBackend();

// Triton's own schema (triton-inference-server/common, vendored with its source URL): every
// generated config.pbtxt must parse as a ModelConfig in protobuf text format. protobufjs's text
// format parser rejects unknown field names, wrong value types and unknown enum values.
const PROTO = fileURLToPath(new URL('./fixtures/triton/model_config.proto', import.meta.url));
const ModelConfig = protobuf.loadSync(PROTO).lookupType('inference.ModelConfig');

interface ParsedTensor {
  name: string;
  dataType: string;
  dims: number[];
  reshape?: { shape?: number[] };
}
interface ParsedConfig {
  name: string;
  platform: string;
  backend: string;
  maxBatchSize?: number;
  input: ParsedTensor[];
  output: ParsedTensor[];
  dynamicBatching?: { maxQueueDelayMicroseconds?: number; preferredBatchSize?: number[] };
  instanceGroup?: { kind?: string; count?: number; gpus?: number[] }[];
  parameters?: Record<string, { stringValue: string }>;
}

function parse(text: string): ParsedConfig {
  const message = textformat.fromText(ModelConfig, text);
  expect(ModelConfig.verify(message)).toBeNull();
  return ModelConfig.toObject(message, {
    enums: String,
    longs: Number,
    arrays: true,
  }) as ParsedConfig;
}

const mlp = () =>
  tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 4, name: 'd' })] });

const conv = () =>
  tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [null, null, 3], filters: 4, kernelSize: 3, name: 'c' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 16, name: 'd' }),
    ],
  });

function twoHeads() {
  const a = tfl.input({ shape: [5], name: 'a' });
  const b = tfl.input({ shape: [5], name: 'b' });
  const sum = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
  const h1 = tfl.layers.dense({ units: 3 }).apply(sum) as tfl.SymbolicTensor;
  const h2 = tfl.layers.dense({ units: 2 }).apply(sum) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [a, b], outputs: [h1, h2] });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ebmjs-triton-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tritonConfig: every generated config parses against Triton model_config.proto', () => {
  it('an MLP: onnxruntime backend, batch dim dropped, types and names from the model, dynamic batching, ebm.js preprocessing in parameters', async () => {
    const bytes = await exportOnnx(mlp(), {
      normalize: true,
      recipe: 'simclr',
      preprocessing: { scale: 1 / 255, mean: [0.5], std: [0.25] },
    });
    const text = tritonConfig(bytes, { name: 'encoder' });
    const c = parse(text);
    expect(c.name).toBe('encoder');
    expect(c.platform).toBe('onnxruntime_onnx');
    expect(c.backend).toBe('onnxruntime');
    expect(c.maxBatchSize).toBe(64);
    expect(c.input).toEqual([{ name: 'input', dataType: 'TYPE_FP32', dims: [8] }]);
    expect(c.output).toEqual([{ name: 'embedding', dataType: 'TYPE_FP32', dims: [4] }]);
    expect(c.dynamicBatching).toEqual({ maxQueueDelayMicroseconds: 100, preferredBatchSize: [] });
    expect(c.instanceGroup).toEqual([]);
    const p = Object.fromEntries(
      Object.entries(c.parameters ?? {}).map(([k, v]) => [k, v.stringValue]),
    );
    expect(p['ebmjs.preprocessing.scale']).toBe(JSON.stringify(1 / 255));
    expect(JSON.parse(p['ebmjs.preprocessing.mean']!)).toEqual([0.5]);
    expect(JSON.parse(p['ebmjs.preprocessing.std']!)).toEqual([0.25]);
    expect(p['ebmjs.input_layout']).toBe('NC');
    expect(p['ebmjs.embedding_dim']).toBe('4');
    expect(p['ebmjs.output_normalization']).toBe('l2');
    expect(p['ebmjs.recipe']).toBe('simclr');
  });

  it('a conv net with symbolic spatial sizes (NCHW): -1 dims, GPU instance groups, queue delay and preferred sizes', async () => {
    const bytes = await exportOnnx(conv(), { layout: 'NCHW' });
    const options: TritonRepositoryOptions = {
      name: 'conv',
      maxBatchSize: 32,
      dynamicBatching: { maxQueueDelayMicroseconds: 2000, preferredBatchSize: [8, 32] },
      instanceGroup: [{ kind: 'gpu', count: 2, gpus: [0, 1] }, { kind: 'cpu' }],
    };
    const c = parse(tritonConfig(bytes, options));
    expect(c.maxBatchSize).toBe(32);
    expect(c.input).toEqual([{ name: 'input', dataType: 'TYPE_FP32', dims: [3, -1, -1] }]);
    expect(c.output).toEqual([{ name: 'embedding', dataType: 'TYPE_FP32', dims: [16] }]);
    expect(c.dynamicBatching).toEqual({
      maxQueueDelayMicroseconds: 2000,
      preferredBatchSize: [8, 32],
    });
    expect(c.instanceGroup).toMatchObject([
      { kind: 'KIND_GPU', count: 2, gpus: [0, 1] },
      { kind: 'KIND_CPU', count: 1, gpus: [] },
    ]);
    expect(c.parameters?.['ebmjs.input_layout']?.stringValue).toBe('NCHW');
  });

  it('several inputs and outputs keep their names and order', async () => {
    const c = parse(tritonConfig(await exportOnnx(twoHeads()), { name: 'two' }));
    expect(c.input.map((t) => [t.name, t.dims])).toEqual([
      ['input_0', [5]],
      ['input_1', [5]],
    ]);
    expect(c.output.map((t) => [t.name, t.dims])).toEqual([
      ['output_0', [3]],
      ['output_1', [2]],
    ]);
  });

  it('a fixed batch: max_batch_size 0, full dims, no dynamic batching; asking Triton to batch it is an error', async () => {
    const bytes = await exportOnnx(mlp(), { dynamicBatch: false, batchSize: 4 });
    const c = parse(tritonConfig(bytes, { name: 'fixed' }));
    expect(c.maxBatchSize ?? 0).toBe(0);
    expect(c.input[0]!.dims).toEqual([4, 8]);
    expect(c.output[0]!.dims).toEqual([4, 4]);
    expect(c.dynamicBatching).toBeUndefined();
    expect(() => tritonConfig(bytes, { name: 'fixed', maxBatchSize: 8 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/maxBatchSize 8 needs a symbolic first \(batch\) dimension/),
      }),
    );
    expect(() => tritonConfig(bytes, { name: 'fixed', dynamicBatching: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('dynamic batching can be turned off; the config still parses', async () => {
    const c = parse(
      tritonConfig(await exportOnnx(mlp()), {
        name: 'nobatch',
        maxBatchSize: 1,
        dynamicBatching: false,
      }),
    );
    expect(c.maxBatchSize).toBe(1);
    expect(c.dynamicBatching).toBeUndefined();
  });

  it('quotes, backslashes, newlines and control characters in metadata survive as text-format escapes', async () => {
    const recipe = 'my "recipe"\\ with\nnew line\t\u0001 and é';
    const c = parse(tritonConfig(await exportOnnx(mlp(), { recipe }), { name: 'm' }));
    expect(c.parameters?.['ebmjs.recipe']?.stringValue).toBe(recipe);
  });

  it('the schema check is strict: a misspelt field or an unknown type fails to parse', async () => {
    const text = tritonConfig(await exportOnnx(mlp()), { name: 'm' });
    expect(() => parse(text.replace('max_batch_size', 'max_batchsize'))).toThrow(/unknown field/);
    expect(() => parse(text.replace('TYPE_FP32', 'TYPE_FLOAT32'))).toThrow(/enum/);
  });

  it('rejects bad options, naming them', async () => {
    const bytes = await exportOnnx(mlp());
    const bad: [TritonRepositoryOptions, RegExp][] = [
      [{ name: '../up' }, /option "name" must be a directory name/],
      [{ name: 'm', maxBatchSize: -1 }, /option "maxBatchSize" must be an integer >= 0/],
      [{ name: 'm', instanceGroup: { kind: 'tpu' as 'gpu' } }, /option "instanceGroup\[0\]\.kind"/],
      [{ name: 'm', instanceGroup: { kind: 'cpu', gpus: [0] } }, /given only with kind "gpu"/],
      [
        { name: 'm', maxBatchSize: 8, dynamicBatching: { preferredBatchSize: [16] } },
        /preferredBatchSize" must be a non-empty array of integers in 1\.\.8/,
      ],
      [{ name: 'm', batch: 3 } as TritonRepositoryOptions, /unknown option "batch"/],
    ];
    for (const [options, message] of bad) {
      expect(() => tritonConfig(bytes, options)).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: expect.stringMatching(message),
        }),
      );
    }
    expect(() => tritonConfig(new Uint8Array([1, 2, 3]), { name: 'm' })).toThrow(
      expect.objectContaining({ code: 'CORRUPT_FILE' }),
    );
  });
});

describe('writeTritonRepository', () => {
  it('writes <repo>/<name>/config.pbtxt and <name>/1/model.onnx (the same bytes, loadable by ORT), nothing else', async () => {
    const bytes = await exportOnnx(mlp());
    const modelFile = join(dir, 'my-encoder.onnx');
    await writeFile(modelFile, bytes);
    const repo = join(dir, 'repo');
    const result = await writeTritonRepository(modelFile, repo, {
      instanceGroup: { kind: 'gpu' },
    });
    expect(result.configPath).toBe(join(repo, 'my-encoder', 'config.pbtxt'));
    expect(result.modelPath).toBe(join(repo, 'my-encoder', '1', 'model.onnx'));
    expect((await readdir(join(repo, 'my-encoder'))).sort()).toEqual(['1', 'config.pbtxt']);
    expect(await readdir(join(repo, 'my-encoder', '1'))).toEqual(['model.onnx']);
    const written = await readFile(result.modelPath);
    expect(Buffer.from(bytes).equals(written)).toBe(true);
    const config = await readFile(result.configPath, 'utf8');
    expect(config).toBe(result.config);
    const c = parse(config);
    expect(c.name).toBe('my-encoder');
    expect(c.instanceGroup).toMatchObject([{ kind: 'KIND_GPU', count: 1, gpus: [] }]);
    const session = await ort.InferenceSession.create(result.modelPath);
    expect([session.inputNames, session.outputNames]).toEqual([['input'], ['embedding']]);
    await session.release();
  });

  it('takes bytes with a name and a version; bytes without a name, or a missing file, are errors', async () => {
    const bytes = await exportOnnx(mlp());
    const result = await writeTritonRepository(bytes, dir, { name: 'm', version: 3 });
    expect(result.modelPath).toBe(join(dir, 'm', '3', 'model.onnx'));
    parse(await readFile(result.configPath, 'utf8'));
    await expect(writeTritonRepository(bytes, dir)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('option "name"'),
    });
    await expect(writeTritonRepository(join(dir, 'nope.onnx'), dir)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringContaining('nope.onnx'),
    });
  });
});
