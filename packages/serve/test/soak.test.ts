import { FeatureExtractor } from '@ebmjs/web-infer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type EbmServer } from '../src/index.js';
import { GALLERY, maxAbsDiff, modelPath, png } from './helpers.js';

const MODEL = 'conv-rgb-nchw';

interface Case {
  kind: string;
  init: RequestInit & { path: string };
  /** Index into GALLERY of each expected row; undefined for a malformed request. */
  expect?: number[];
  /** For malformed requests: the status and code they must get. */
  status?: number;
  code?: string;
}

/** Runs `fns` with at most `limit` in flight. */
async function pool<T>(fns: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(fns.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < fns.length) {
        const i = next++;
        out[i] = await fns[i]!();
      }
    }),
  );
  return out;
}

describe('soak: 2,000 requests on loopback, 10% malformed', () => {
  let server: EbmServer;
  let url: string;
  let local: FeatureExtractor;
  let tensors: number[][];
  let raw: Float32Array[];
  let unit: Float32Array[];
  beforeAll(async () => {
    server = await createServer({
      model: modelPath(MODEL),
      device: 'cpu',
      maxBatch: 16,
      maxQueueDelayMs: 2,
      maxBodyMb: 0.25,
    });
    url = await server.listen({ port: 0 });
    local = await FeatureExtractor.create(modelPath(MODEL), { device: 'cpu', normalize: false });
    tensors = await Promise.all(
      GALLERY.map(async (f) => Array.from((await local.prepare(png(f))).data)),
    );
    raw = await local.extract(GALLERY.map(png));
    unit = raw.map((r) => {
      const n = Math.hypot(...r);
      return r.map((x) => x / n);
    });
  });
  afterAll(async () => {
    await server.close();
    await local.dispose();
  });

  function cases(count: number): Case[] {
    const name = local.info.inputName;
    const json = (body: unknown): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const infer = `/v2/models/${MODEL}/infer`;
    const list: Case[] = [];
    for (let i = 0; i < count; i++) {
      const a = i % GALLERY.length;
      const b = (i + 1) % GALLERY.length;
      if (i % 10 === 9) {
        const bad = (i / 10) % 4;
        if (bad < 1)
          list.push({
            kind: 'bad JSON',
            init: {
              path: infer,
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: '{"inputs": [{"name": "x", ',
            },
            status: 400,
            code: 'INVALID_ARGUMENT',
          });
        else if (bad < 2)
          list.push({
            kind: 'wrong dims',
            init: {
              path: infer,
              ...json({
                inputs: [{ name, shape: [1, 3, 16, 64], datatype: 'FP32', data: tensors[a] }],
              }),
            },
            status: 400,
            code: 'SHAPE_MISMATCH',
          });
        else if (bad < 3)
          list.push({
            kind: 'truncated PNG',
            init: {
              path: '/v1/embed',
              method: 'POST',
              headers: { 'content-type': 'image/png' },
              body: png(GALLERY[a]!).subarray(0, 60 + (i % 50)),
            },
            status: 400,
            code: 'INVALID_ARGUMENT',
          });
        else
          list.push({
            kind: 'oversized body',
            init: {
              path: infer,
              ...json({
                inputs: [
                  {
                    name,
                    shape: [5, 3, 32, 32],
                    datatype: 'FP32',
                    data: [
                      ...tensors[a]!,
                      ...tensors[a]!,
                      ...tensors[a]!,
                      ...tensors[a]!,
                      ...tensors[a]!,
                    ],
                  },
                ],
              }),
            },
            status: 413,
            code: 'INVALID_ARGUMENT',
          });
      } else if (i % 3 === 0) {
        list.push({
          kind: 'infer',
          init: {
            path: infer,
            ...json({
              inputs: [
                {
                  name,
                  shape: [2, 3, 32, 32],
                  datatype: 'FP32',
                  data: [...tensors[a]!, ...tensors[b]!],
                },
              ],
            }),
          },
          expect: [a, b],
        });
      } else if (i % 3 === 1) {
        list.push({
          kind: 'embed',
          init: {
            path: '/v1/embed',
            method: 'POST',
            headers: { 'content-type': 'image/png' },
            body: png(GALLERY[a]!),
          },
          expect: [a],
        });
      } else {
        const form = new FormData();
        form.append('a', new Blob([png(GALLERY[a]!)], { type: 'image/png' }), 'a.png');
        form.append('b', new Blob([png(GALLERY[b]!)], { type: 'image/png' }), 'b.png');
        list.push({
          kind: 'multipart',
          init: { path: '/v1/embed', method: 'POST', body: form },
          expect: [a, b],
        });
      }
    }
    return list;
  }

  it('every good request is answered correctly, every bad one is a 4xx; the server lives', async () => {
    const list = cases(2000);
    const results = await pool(
      list.map((c) => async () => {
        const { path, ...init } = c.init;
        const res = await fetch(`${url}${path}`, init);
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      }),
      32,
    );
    let worst = 0;
    const seen = new Map<string, number>();
    list.forEach((c, i) => {
      const r = results[i]!;
      seen.set(c.kind, (seen.get(c.kind) ?? 0) + 1);
      if (c.expect === undefined) {
        expect([c.kind, r.status, (r.body.error as { code: string }).code]).toEqual([
          c.kind,
          c.status,
          c.code,
        ]);
        return;
      }
      expect([c.kind, r.status]).toEqual([c.kind, 200]);
      const rows =
        c.kind === 'infer'
          ? [0, 1].map((k) =>
              (r.body.outputs as { data: number[] }[])[0]!.data.slice(k * 16, k * 16 + 16),
            )
          : (r.body.embeddings as number[][]);
      const want = c.expect.map((g) => (c.kind === 'infer' ? raw[g]! : unit[g]!));
      expect(rows.length).toBe(want.length);
      rows.forEach((row, k) => {
        worst = Math.max(worst, maxAbsDiff(row, want[k]!));
      });
    });
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(
      seen.get('bad JSON')! +
        seen.get('wrong dims')! +
        seen.get('truncated PNG')! +
        seen.get('oversized body')!,
    ).toBe(200);
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    // Requests shared runs: fewer runs than samples.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const runs = Number(/^ebm_batch_size_count (\d+)$/m.exec(metrics)![1]);
    const samples = Number(/^ebm_samples_total (\d+)$/m.exec(metrics)![1]);
    expect(samples).toBeGreaterThan(2000);
    expect(runs).toBeLessThan(samples);
    expect(metrics).toMatch(
      /^ebm_requests_total\{route="\/v1\/embed",method="POST",status="400"\} 50$/m,
    );
  });
});

describe('graceful close', () => {
  it('close() answers every request already received, then refuses new ones and frees the model', async () => {
    // A long queue delay holds the requests in the batcher while close() is called.
    const server = await createServer({
      model: modelPath('mlp'),
      device: 'cpu',
      maxQueueDelayMs: 300,
    });
    const url = await server.listen({ port: 0 });
    const name = server.extractor.info.inputName;
    const body = (k: number) =>
      JSON.stringify({
        inputs: [{ name, shape: [1, 8], datatype: 'FP32', data: [k, 1, 2, 3, 4, 5, 6, 7] }],
      });
    const inflight = Array.from({ length: 20 }, (_, k) =>
      fetch(`${url}/v2/models/mlp/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(k),
      }).then(async (r) => ({ status: r.status, body: await r.json() })),
    );
    while ((await server.metrics.inFlight.get()).values[0]!.value < 20)
      await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    const closing = server.close();
    const answered = await Promise.all(inflight);
    await closing;
    // Not held by the clients' keep-alive sockets (Fastify's keepAliveTimeout is 72 s).
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(answered.map((a) => a.status)).toEqual(new Array(20).fill(200));
    const local = await FeatureExtractor.create(modelPath('mlp'), {
      device: 'cpu',
      normalize: false,
    });
    const want = await local.extract({
      data: new Float32Array([19, 1, 2, 3, 4, 5, 6, 7]),
      dims: [1, 8],
    });
    await local.dispose();
    expect(maxAbsDiff(answered[19]!.body.outputs[0].data, want[0]!)).toBeLessThanOrEqual(1e-6);
    expect(server.extractor.disposed).toBe(true);
    await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();
  });
});
