import { FeatureExtractor } from '@ebmjs/web-infer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type EbmServer } from '../src/index.js';
import { GALLERY, maxAbsDiff, modelPath, png } from './helpers.js';

const MODEL = 'conv-rgb-nchw'; // [?, 3, 32, 32] NCHW -> 16, ebm.js metadata (scale 1/255)

describe('KServe v2 protocol on fastify.inject', () => {
  let server: EbmServer;
  let local: FeatureExtractor;
  beforeAll(async () => {
    server = await createServer({ model: modelPath(MODEL), device: 'cpu', maxBatch: 8 });
    local = await FeatureExtractor.create(modelPath(MODEL), { device: 'cpu', normalize: false });
  });
  afterAll(async () => {
    await server.close();
    await local.dispose();
  });
  const get = (url: string) => server.app.inject({ method: 'GET', url });
  const infer = (payload: unknown, model = MODEL) =>
    server.app.inject({
      method: 'POST',
      url: `/v2/models/${model}/infer`,
      payload: payload as object,
    });

  it('health, server and model metadata, readiness', async () => {
    expect((await get('/v2/health/live')).json()).toEqual({ live: true });
    const ready = await get('/v2/health/ready');
    expect([ready.statusCode, ready.json()]).toEqual([200, { ready: true }]);
    expect((await get('/v2')).json()).toMatchObject({ name: 'ebmjs-serve', extensions: [] });
    const meta = (await get(`/v2/models/${MODEL}`)).json();
    expect(meta).toMatchObject({
      name: MODEL,
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: local.info.inputName, datatype: 'FP32', shape: [-1, 3, 32, 32] }],
      outputs: [{ name: local.info.outputName, datatype: 'FP32', shape: [-1, 16] }],
    });
    expect(meta.parameters['ebmjs.input_layout']).toBe('NCHW');
    expect((await get(`/v2/models/${MODEL}/versions/1`)).json()).toEqual(meta);
    expect((await get(`/v2/models/${MODEL}/ready`)).json()).toEqual({ name: MODEL, ready: true });
    const config = (await get(`/v2/models/${MODEL}/config`)).json();
    expect(config).toMatchObject({
      max_batch_size: 8,
      input: [{ data_type: 'TYPE_FP32', dims: [3, 32, 32] }],
      parameters: { 'ebmjs.input_layout': { string_value: 'NCHW' } },
    });
  });

  it('infer: a batch of FP32 tensors gives the in-process raw outputs', async () => {
    const samples = await Promise.all(GALLERY.map((f) => local.prepare(png(f))));
    const data = samples.flatMap((s) => Array.from(s.data));
    const res = await infer({
      id: 'req-1',
      inputs: [{ name: local.info.inputName, shape: [4, 3, 32, 32], datatype: 'FP32', data }],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ model_name: MODEL, model_version: '1', id: 'req-1' });
    expect(body.outputs[0]).toMatchObject({ name: local.info.outputName, shape: [4, 16] });
    const expected = await local.extract(GALLERY.map(png));
    for (let i = 0; i < 4; i++)
      expect(
        maxAbsDiff(body.outputs[0].data.slice(i * 16, i * 16 + 16), expected[i]!),
      ).toBeLessThanOrEqual(1e-6);
    // Nested row-major data is accepted too.
    const nested = await infer({
      inputs: [
        {
          name: local.info.inputName,
          shape: [1, 3, 32, 32],
          datatype: 'FP32',
          data: [[...samples[0]!.data]],
        },
      ],
    });
    expect(maxAbsDiff(nested.json().outputs[0].data, expected[0]!)).toBeLessThanOrEqual(1e-6);
  });

  it('/v1/embed: raw image bytes, normalized (or raw with ?normalize=false)', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/embed',
      payload: Buffer.from(png(GALLERY[0]!)),
      headers: { 'content-type': 'image/png' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ model: MODEL, dim: 16, normalized: true });
    const normalized = await FeatureExtractor.create(modelPath(MODEL), { device: 'cpu' });
    const expected = await normalized.extract(png(GALLERY[0]!));
    await normalized.dispose();
    expect(maxAbsDiff(body.embeddings[0], expected)).toBeLessThanOrEqual(1e-6);
    const raw = await server.app.inject({
      method: 'POST',
      url: '/v1/embed?normalize=false',
      payload: Buffer.from(png(GALLERY[0]!)),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(
      maxAbsDiff(raw.json().embeddings[0], await local.extract(png(GALLERY[0]!))),
    ).toBeLessThanOrEqual(1e-6);
  });

  const errorOf = (res: { statusCode: number; json(): unknown }) => ({
    status: res.statusCode,
    ...(res.json() as { error: { code: string; message: string } }).error,
  });

  it('every bad request is a 4xx with the EbmError code and message', async () => {
    const name = local.info.inputName;
    const ok = { name, shape: [1, 3, 32, 32], datatype: 'FP32', data: new Array(3072).fill(0) };
    const badJson = await server.app.inject({
      method: 'POST',
      url: `/v2/models/${MODEL}/infer`,
      payload: '{"inputs": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(errorOf(badJson)).toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/not valid JSON/),
    });
    expect(errorOf(await infer({ inputs: [{ ...ok, shape: [1, 3, 32, 31] }] }))).toMatchObject({
      status: 400,
      code: 'SHAPE_MISMATCH',
      message: expect.stringContaining(
        'expected shape [-1, 3, 32, 32] (NCHW), received [1, 3, 32, 31]',
      ),
    });
    expect(errorOf(await infer({ inputs: [{ ...ok, data: [1, 2] }] }))).toMatchObject({
      status: 400,
      code: 'SHAPE_MISMATCH',
      message: 'inputs[0]: shape needs 3072 values, received 2.',
    });
    expect(errorOf(await infer({ inputs: [{ ...ok, datatype: 'INT64' }] }))).toMatchObject({
      status: 400,
      code: 'INVALID_DTYPE',
      message: expect.stringContaining('expected datatype FP32, received INT64'),
    });
    expect(
      errorOf(await infer({ inputs: [{ ...ok, data: ['a', ...ok.data.slice(1)] }] })),
    ).toMatchObject({
      status: 400,
      code: 'INVALID_DTYPE',
    });
    expect(errorOf(await infer({ inputs: [{ ...ok, name: 'pixels' }] }))).toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: `unknown input "pixels"; the model's input is "${name}".`,
    });
    expect(errorOf(await infer({ inputs: [{ name, shape: [1] }] }))).toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining("must have required property 'datatype'"),
    });
    expect(errorOf(await infer({ inputs: [ok] }, 'resnet50'))).toMatchObject({
      status: 404,
      code: 'INVALID_ARGUMENT',
      message: `unknown model "resnet50"; this server serves "${MODEL}".`,
    });
    expect(errorOf(await get('/v2/models/resnet50/ready'))).toMatchObject({ status: 404 });
    expect(errorOf(await get('/v3/anything'))).toMatchObject({
      status: 404,
      message: 'no route GET /v3/anything.',
    });
    const notImage = await server.app.inject({
      method: 'POST',
      url: '/v1/embed',
      payload: Buffer.from('these are not the pixels you are looking for'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(errorOf(notImage)).toMatchObject({
      status: 400,
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('is not an image sharp can decode'),
    });
    const truncated = await server.app.inject({
      method: 'POST',
      url: '/v1/embed',
      payload: Buffer.from(png(GALLERY[1]!).subarray(0, 120)),
      headers: { 'content-type': 'image/png' },
    });
    expect(errorOf(truncated)).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
    const text = await server.app.inject({
      method: 'POST',
      url: '/v1/embed',
      payload: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(errorOf(text)).toMatchObject({ status: 415, code: 'UNSUPPORTED' });
    // The server still answers after all of that.
    expect((await infer({ inputs: [ok] })).statusCode).toBe(200);
  });

  it('a body over maxBodyMb is 413', async () => {
    const small = await createServer({ model: modelPath('mlp'), device: 'cpu', maxBodyMb: 0.01 });
    try {
      const big = await small.app.inject({
        method: 'POST',
        url: '/v2/models/mlp/infer',
        payload: {
          inputs: [
            { name: 'x', shape: [2000, 8], datatype: 'FP32', data: new Array(16000).fill(0.5) },
          ],
        },
      });
      expect(errorOf(big)).toEqual({
        status: 413,
        code: 'INVALID_ARGUMENT',
        message: 'request body too large: the limit is 0.01 MB (--max-body-mb).',
      });
      const image = await small.app.inject({
        method: 'POST',
        url: '/v1/embed',
        payload: Buffer.alloc(20_000),
        headers: { 'content-type': 'image/png' },
      });
      expect(errorOf(image).status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('/metrics: Prometheus text with the request, error, batch and latency series', async () => {
    const res = await get('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(
      /^ebm_requests_total\{route="\/v2\/models\/:model\/infer",method="POST",status="200"\} \d+$/m,
    );
    expect(text).toMatch(
      /^ebm_request_errors_total\{route="\/v2\/models\/:model\/infer",code="SHAPE_MISMATCH"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^ebm_request_duration_seconds_bucket\{le="0.005",route="\/v1\/embed"\} \d+$/m,
    );
    expect(text).toMatch(/^ebm_batch_size_bucket\{le="8"\} [1-9]\d*$/m);
    expect(text).toMatch(/^ebm_inference_duration_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^ebm_samples_total [1-9]\d*$/m);
    expect(text).toMatch(/^ebm_process_resident_memory_bytes \d+/m);
  });
});
