import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

const FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'web-infer',
  'test',
  'fixtures',
);
const MLP = join(FIXTURES, 'mlp.onnx'); // [?, 8] -> 4

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

/** Starts `ebm serve ...`; resolves with its URL once it prints it, and a stop() that sends SIGTERM. */
async function start(args: string[]) {
  const before = process.listeners('SIGTERM');
  const t = capture();
  const exit = main(['serve', ...args], t.io);
  let url: string | undefined;
  for (let i = 0; i < 600 && url === undefined; i++) {
    url = /at (http:\/\/\S+) /.exec(t.out.join('\n'))?.[1];
    const done = await Promise.race([
      exit.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 10)),
    ]);
    if (done) throw new Error(`ebm serve exited: ${t.err.join('\n')}`);
  }
  const stop = async () => {
    // Deliver SIGTERM to the command's handler (a real signal would also reach vitest's).
    for (const l of process.listeners('SIGTERM'))
      if (!before.includes(l)) (l as (s: string) => void)('SIGTERM');
    return exit;
  };
  return { url: url!, t, stop };
}

describe('ebm serve', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ebm-cli-serve-'));
  });
  afterAll(() => {});

  it('bad flags and missing models are one-line usage errors, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^ebm serve: missing model: ebm serve <model\.onnx \| run-dir>\.$/],
      [[MLP, '--port', 'http'], /^ebm serve: --port must be an integer >= 0, received "http"\.$/],
      [[MLP, '--port', '70000'], /--port must be an integer <= 65535/],
      [[MLP, '--max-batch', '0'], /--max-batch must be an integer >= 1, received "0"/],
      [[MLP, '--max-queue-delay-ms=-1'], /--max-queue-delay-ms must be a number >= 0/],
      [[MLP, '--max-body-mb', '0'], /--max-body-mb must be a number > 0/],
      [[MLP, '--threads', '1.5'], /--threads must be an integer >= 1/],
      [[MLP, '--device', 'tpu'], /--device must be one of auto, cpu, cuda, wasm, received "tpu"/],
      [[MLP, '--name', 'my model'], /--name must be letters, digits/],
      [[MLP, '--bogus'], /Unknown option '--bogus'/],
      [['/no/such/model.onnx'], /no such model file or run directory: \/no\/such\/model\.onnx/],
      [
        [dir],
        /holds no encoder\.onnx, model\.onnx or encoder\/ save; pass an \.onnx file or a run directory/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const t = capture();
      expect([args, await main(['serve', ...args], t.io)]).toEqual([args, 2]);
      expect(t.err).toHaveLength(1);
      expect(t.err[0]).toMatch(pattern);
    }
  });

  it('prints the URL, serves the protocol, and drains on SIGTERM (exit 0)', async () => {
    const { url, t, stop } = await start([MLP, '--port', '0', '--max-batch', '4', '--name', 'enc']);
    expect(t.out[0]).toMatch(
      /^serving "enc" on cpu at http:\/\/127\.0\.0\.1:\d+ \(KServe v2: .*\/v2\/models\/enc;/,
    );
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    const meta = await (await fetch(`${url}/v2/models/enc`)).json();
    const body = JSON.stringify({
      inputs: [
        {
          name: meta.inputs[0].name,
          shape: [2, 8],
          datatype: 'FP32',
          data: Array.from({ length: 16 }, (_, i) => i / 16),
        },
      ],
    });
    const pending = Array.from({ length: 8 }, () =>
      fetch(`${url}/v2/models/enc/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
    );
    const bad = await fetch(`${url}/v2/models/enc/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(bad.status).toBe(400);
    const responses = await Promise.all(pending);
    expect(responses.map((r) => r.status)).toEqual(new Array(8).fill(200));
    expect(await stop()).toBe(0);
    expect(t.err.join('\n')).toMatch(
      /SIGTERM: finishing the requests in flight, then stopping\.\nstopped\./,
    );
    await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();
  });

  it('a run directory with an exported encoder.onnx serves it under the directory name', async () => {
    const run = join(dir, 'my-run');
    await mkdir(run);
    await copyFile(MLP, join(run, 'encoder.onnx'));
    const { url, stop } = await start([run, '--port', '0']);
    expect((await fetch(`${url}/v2/models/my-run/ready`)).status).toBe(200);
    expect(await stop()).toBe(0);
  });

  it('a run directory with only the trained encoder/ is exported in memory and served', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    const { mlpEncoder, saveModel } = await import('@ebmjs/models');
    const run = join(dir, 'trained');
    const encoder = mlpEncoder({ inputShape: [8], hiddenUnits: [6], embeddingDim: 4 });
    await saveModel(encoder, join(run, 'encoder'));
    const x = Float32Array.from({ length: 8 }, (_, i) => (i * 37) % 255);
    const want = (
      encoder.model.predict(
        tf.tensor2d(x, [1, 8]).div(255),
      ) as import('@tensorflow/tfjs-core').Tensor
    ).dataSync();
    encoder.model.dispose();
    const { url, stop } = await start([run, '--port', '0']);
    const meta = await (await fetch(`${url}/v2/models/trained`)).json();
    expect(meta.parameters['ebmjs.preprocessing.scale']).toBeDefined();
    // /v1/embed takes images; a vector model is reached through infer, preprocessed client-side.
    const { RemoteFeatureExtractor } = await import('@ebmjs/web-infer');
    const remote = await RemoteFeatureExtractor.create({ url, model: 'trained', normalize: false });
    const got = await remote.extract(x);
    for (let i = 0; i < 4; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
    expect(await stop()).toBe(0);
  });

  it('a port in use is a one-line error', async () => {
    const first = await start([MLP, '--port', '0']);
    const port = new URL(first.url).port;
    const t = capture();
    expect(await main(['serve', MLP, '--port', port], t.io)).toBe(2);
    expect(t.err).toEqual([
      expect.stringMatching(/^ebm serve: cannot listen on 127\.0\.0\.1:\d+ \(the port is in use\)/),
    ]);
    expect(await first.stop()).toBe(0);
  });
});
