import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEbmError, RemoteFeatureExtractor } from '../src/index.node.js';

/**
 * A stand-in for Triton: KServe v2 metadata without ebm.js parameters, the ebm.js preprocessing
 * in the model config (`parameters.<key>.string_value`), and errors as `{ error: "<text>" }`.
 * Its "model" returns [sum of the sample, first value] so the test can see what was sent.
 */
function tritonLike(): Server {
  return createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      if (req.url === '/v2/models/enc')
        return send(200, {
          name: 'enc',
          versions: ['1'],
          platform: 'onnxruntime_onnx',
          inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 1, 2, 2] }],
          outputs: [{ name: 'embedding', datatype: 'FP32', shape: [-1, 2] }],
        });
      if (req.url === '/v2/models/enc/config')
        return send(200, {
          name: 'enc',
          parameters: {
            'ebmjs.input_layout': { string_value: 'NCHW' },
            'ebmjs.preprocessing.scale': { string_value: '0.5' },
            'ebmjs.preprocessing.mean': { string_value: '1' },
            'other.key': { string_value: 'ignored' },
          },
        });
      if (req.url === '/v2/models/enc/infer') {
        const body = JSON.parse(text);
        const [input] = body.inputs;
        if (input.name !== 'pixels' || input.datatype !== 'FP32')
          return send(400, { error: `unexpected input ${input.name}` });
        const n = input.shape[0];
        const per = input.data.length / n;
        const data: number[] = [];
        for (let i = 0; i < n; i++) {
          const row = input.data.slice(i * per, (i + 1) * per);
          data.push(
            row.reduce((a: number, b: number) => a + b, 0),
            row[0],
          );
        }
        return send(200, {
          model_name: 'enc',
          outputs: [{ name: 'embedding', datatype: 'FP32', shape: [n, 2], data }],
        });
      }
      send(400, { error: `Request for unknown model: '${req.url}' is not found` });
    });
  });
}

describe('RemoteFeatureExtractor (KServe v2 client)', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = tritonLike();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reads the ebm.js preprocessing from a Triton model config and sends prepared FP32 tensors', async () => {
    const remote = await RemoteFeatureExtractor.create({ url, model: 'enc', normalize: false });
    expect(remote.info).toMatchObject({
      inputName: 'pixels',
      outputName: 'embedding',
      layout: 'NCHW',
      image: { height: 2, width: 2, channels: 1 },
      preprocessing: { scale: 0.5, mean: [1], std: [1] },
      embeddingDim: 2,
    });
    // Gray 2×2 pixels 2, 4, 6, 8 -> x · 0.5 − 1 = 0, 1, 2, 3 on the wire: sum 6, first 0.
    const row = await remote.extract({ data: [2, 4, 6, 8], width: 2, height: 2, channels: 1 });
    expect(Array.from(row)).toEqual([6, 0]);
    // Raw values in the model layout take the same preprocessing; a tensor goes untouched.
    const rows = await remote.extract([
      new Float32Array([2, 2, 2, 2]),
      new Float32Array([4, 0, 0, 0]),
    ]);
    expect(rows.map((r) => Array.from(r))).toEqual([
      [0, 0],
      [-2, 1],
    ]);
    const tensor = await remote.extract({ data: [1, 2, 3, 4, 5, 6, 7, 8], dims: [2, 1, 2, 2] });
    expect(tensor.map((r) => Array.from(r))).toEqual([
      [10, 1],
      [26, 5],
    ]);
    expect(remote.stats).toEqual({ requests: 3, samples: 5 });
    const unit = await RemoteFeatureExtractor.create({ url, model: 'enc' });
    // Normalized by default, like the in-process extractor: [1, 0, 1, 0] on the wire -> [2, 1] / √5.
    const [a, b] = await unit.extract(new Float32Array([4, 2, 4, 2]));
    expect([a, b]).toEqual([
      expect.closeTo(2 / Math.sqrt(5), 6),
      expect.closeTo(1 / Math.sqrt(5), 6),
    ]);
  });

  it('a server error keeps its message; an aborted signal is ABORTED; bad options are INVALID_ARGUMENT', async () => {
    const missing = await RemoteFeatureExtractor.create({ url, model: 'nope' }).catch(
      (e: unknown) => e,
    );
    expect(isEbmError(missing)).toBe(true);
    expect((missing as Error).message).toMatch(/HTTP 400: Request for unknown model/);
    const remote = await RemoteFeatureExtractor.create({ url, model: 'enc' });
    const controller = new AbortController();
    controller.abort();
    await expect(
      remote.extract(new Float32Array(4), { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(remote.extract(new Float32Array(3))).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
    });
    await expect(
      RemoteFeatureExtractor.create({ url: 'ftp://x', model: 'enc' }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(RemoteFeatureExtractor.create({ url, model: 'a/b' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
