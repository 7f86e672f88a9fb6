import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, EbmError, resolveOptions } from '@ebmjs/contract';
import {
  configureRuntime,
  type DeviceOption,
  FeatureExtractor,
  type KServeInferRequest,
  type KServeInferResponse,
  type KServeModelMetadata,
  l2Normalize,
} from '@ebmjs/web-infer';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Batcher } from './batcher.js';
import { httpError, toErrorResponse } from './http-errors.js';
import { INFER_SCHEMA, inferSamples, type Sample } from './infer-request.js';
import { createMetrics, type ServerMetrics } from './metrics.js';

export interface ServeOptions {
  /** The encoder: an .onnx path, a URL or the model's bytes. */
  model: string | URL | Uint8Array;
  /** The model's name in the protocol (`/v2/models/<name>`); default the file's base name. */
  name?: string;
  /** ONNX Runtime device (default 'auto': cuda, then cpu). */
  device?: DeviceOption;
  /** Intra-op threads (process-wide, see web-infer's configureRuntime). */
  threads?: number;
  /** Most samples per model run (default 32). */
  maxBatch?: number;
  /** How long a request may wait for others to share its run (default 2 ms). */
  maxQueueDelayMs?: number;
  /** Largest request body accepted, in MB (default 16); larger is 413. */
  maxBodyMb?: number;
  /** Fastify's request log (pino) on stdout (default false). */
  logger?: boolean;
}

/** A running (or ready to listen) embedding service. */
export interface EbmServer {
  /** The Fastify instance (`app.inject()` runs a request without a socket). */
  readonly app: FastifyInstance;
  /** The model's name in the protocol. */
  readonly name: string;
  /** The extractor serving it. */
  readonly extractor: FeatureExtractor;
  readonly metrics: ServerMetrics;
  /** Starts listening (port 0: any free port); resolves with the base URL. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  /**
   * Graceful shutdown: stops accepting (readiness answers 503, new requests 503), answers every
   * request already received, then releases the model. Safe to call twice.
   */
  close(): Promise<void>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DEVICES = ['auto', 'cpu', 'cuda', 'wasm', 'webgpu'];
const VERSION = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    return String(pkg.version);
  } catch {
    return '0.0.0';
  }
})();

function positive(name: string, value: unknown, integer: boolean, zero = false): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (zero ? value >= 0 : value > 0) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `createServer: option "${name}" must be a ${zero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}, received ${describe(value)}.`,
      { option: name, received: value },
    );
  }
  return value as number;
}

function defaultName(model: string | URL | Uint8Array): string {
  if (model instanceof Uint8Array) return 'model';
  const path = model instanceof URL ? model.pathname : String(model).replace(/[?#].*$/, '');
  const base = basename(path).replace(/\.onnx$/i, '');
  return NAME.test(base) ? base : 'model';
}

/**
 * An HTTP embedding service for an exported encoder, on @ebmjs/web-infer: the KServe v2
 * inference protocol (health, model metadata and readiness, `infer` with FP32 tensors) that
 * Triton Inference Server also speaks, `POST /v1/embed` for encoded images, `/metrics` for
 * Prometheus. Requests arriving within `maxQueueDelayMs` share one ONNX Runtime run.
 */
export async function createServer(options: ServeOptions): Promise<EbmServer> {
  const o = resolveOptions('createServer', options, {
    model: undefined as ServeOptions['model'] | undefined,
    name: undefined as string | undefined,
    device: 'auto' as DeviceOption,
    threads: undefined as number | undefined,
    maxBatch: 32,
    maxQueueDelayMs: 2,
    maxBodyMb: 16,
    logger: false,
  });
  if (o.model === undefined) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      'createServer: option "model" is required (an .onnx path, URL or bytes).',
    );
  }
  const name = o.name ?? defaultName(o.model);
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `createServer: option "name" must be letters, digits, "_", "." or "-", received ${describe(name)}.`,
      { option: 'name', received: name },
    );
  }
  if (!DEVICES.includes(o.device)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `createServer: option "device" must be one of ${DEVICES.join(', ')}, received ${describe(o.device)}.`,
      { option: 'device', received: o.device },
    );
  }
  const maxBatch = positive('maxBatch', o.maxBatch, true);
  const maxQueueDelayMs = positive('maxQueueDelayMs', o.maxQueueDelayMs, false, true);
  const maxBodyMb = positive('maxBodyMb', o.maxBodyMb, false);
  if (o.threads !== undefined) configureRuntime({ threads: positive('threads', o.threads, true) });
  const maxBodyBytes = Math.floor(maxBodyMb * 1024 * 1024);

  // Raw outputs from the session; /v1/embed normalizes, /infer returns what the model computes.
  const extractor = await FeatureExtractor.create(o.model, {
    device: o.device,
    batchSize: maxBatch,
    normalize: false,
  });
  const info = extractor.info;
  const metrics = createMetrics(maxBatch);
  const batcher = new Batcher<Sample, Float32Array>({
    maxBatch,
    maxQueueDelayMs,
    onBatch: (size) => metrics.batchSize.observe(size),
    run: async (samples) => {
      const per = samples[0]!.data.length;
      const data = new Float32Array(per * samples.length);
      samples.forEach((s, i) => data.set(s.data, i * per));
      const end = metrics.inference.startTimer();
      try {
        return await extractor.extract({ data, dims: [samples.length, ...samples[0]!.dims] });
      } finally {
        end();
        metrics.samples.inc(samples.length);
      }
    },
  });
  /** Every sample through the batcher, each keyed by its shape (free-size models). */
  const embed = (samples: Sample[]) =>
    Promise.all(samples.map((s) => batcher.submit([s], s.dims.join('x')).then((r) => r[0]!)));

  let closing = false;
  let closed: Promise<void> | null = null;

  const app = Fastify({
    logger: o.logger,
    bodyLimit: maxBodyBytes,
    // New requests during a shutdown get 503 while those in flight finish.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  await app.register(multipart, {
    limits: { fileSize: maxBodyBytes, files: 1024, fields: 32, parts: 1100 },
  });
  for (const type of ['application/octet-stream', /^image\/[\w.+-]+$/]) {
    app.addContentTypeParser(
      type,
      { parseAs: 'buffer', bodyLimit: maxBodyBytes },
      (_req, body, done) => done(null, body),
    );
  }

  const routeOf = (req: FastifyRequest) => req.routeOptions.url ?? 'unmatched';
  const started = new WeakMap<FastifyRequest, () => number>();
  app.addHook('onRequest', async (req) => {
    metrics.inFlight.inc();
    started.set(req, metrics.duration.startTimer({ route: routeOf(req) }));
  });
  // During a shutdown every answer closes its connection, so close() does not wait for
  // keep-alive sockets to time out.
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.inFlight.dec();
    started.get(req)?.();
    metrics.requests.inc({ route: routeOf(req), method: req.method, status: reply.statusCode });
  });
  const sendError = (req: FastifyRequest, reply: FastifyReply, error: unknown) => {
    const { status, body } = toErrorResponse(error, maxBodyMb);
    metrics.errors.inc({ route: routeOf(req), code: body.error.code });
    if (status >= 500) req.log.error({ err: error }, body.error.message);
    return reply.code(status).send(body);
  };
  app.setErrorHandler((error, req, reply) => sendError(req, reply, error));
  app.setNotFoundHandler((req, reply) =>
    sendError(
      req,
      reply,
      httpError(404, 'INVALID_ARGUMENT', `no route ${req.method} ${req.url.split('?')[0]}.`),
    ),
  );

  const checkModel = (req: FastifyRequest) => {
    const { model, version } = req.params as { model: string; version?: string };
    if (model !== name) {
      throw httpError(
        404,
        'INVALID_ARGUMENT',
        `unknown model "${model}"; this server serves "${name}".`,
        {
          expected: name,
          received: model,
        },
      );
    }
    if (version !== undefined && version !== '1') {
      throw httpError(
        404,
        'INVALID_ARGUMENT',
        `unknown version "${version}" of model "${name}"; it has version 1.`,
      );
    }
  };

  const metadata: KServeModelMetadata = {
    name,
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [
      {
        name: info.inputName,
        datatype: 'FP32',
        shape: [-1, ...info.inputShape.slice(1).map((d) => d ?? -1)],
      },
    ],
    outputs: [{ name: info.outputName, datatype: 'FP32', shape: [-1, info.embeddingDim ?? -1] }],
    // The ebm.js metadata (layout, preprocessing) a client needs to prepare images itself.
    parameters: { ...info.metadata },
  };

  app.get('/v2', async () => ({ name: 'ebmjs-serve', version: VERSION, extensions: [] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) =>
    reply.code(closing ? 503 : 200).send({ ready: !closing }),
  );
  for (const prefix of ['/v2/models/:model', '/v2/models/:model/versions/:version']) {
    app.get(prefix, async (req) => {
      checkModel(req);
      return metadata;
    });
    app.get(`${prefix}/ready`, async (req, reply) => {
      checkModel(req);
      return reply.code(closing ? 503 : 200).send({ name, ready: !closing });
    });
    // The model's configuration in Triton's JSON form, for clients written against Triton.
    app.get(`${prefix}/config`, async (req) => {
      checkModel(req);
      return {
        name,
        platform: 'onnxruntime_onnx',
        max_batch_size: maxBatch,
        input: [
          {
            name: info.inputName,
            data_type: 'TYPE_FP32',
            dims: metadata.inputs[0]!.shape.slice(1),
          },
        ],
        output: [
          { name: info.outputName, data_type: 'TYPE_FP32', dims: [info.embeddingDim ?? -1] },
        ],
        dynamic_batching: { max_queue_delay_microseconds: Math.round(maxQueueDelayMs * 1000) },
        parameters: Object.fromEntries(
          Object.entries(info.metadata).map(([k, v]) => [k, { string_value: v }]),
        ),
      };
    });
    app.post(`${prefix}/infer`, { schema: { body: INFER_SCHEMA } }, async (req) => {
      checkModel(req);
      const body = req.body as KServeInferRequest;
      const samples = inferSamples(body, info);
      const rows = await embed(samples);
      const dim = rows[0]?.length ?? info.embeddingDim ?? 0;
      const data: number[] = new Array(rows.length * dim);
      rows.forEach((row, i) => {
        for (let j = 0; j < dim; j++) data[i * dim + j] = row[j]!;
      });
      const response: KServeInferResponse = {
        model_name: name,
        model_version: '1',
        ...(body.id === undefined ? {} : { id: body.id }),
        outputs: [{ name: info.outputName, datatype: 'FP32', shape: [rows.length, dim], data }],
      };
      return response;
    });
  }

  app.post('/v1/embed', async (req) => {
    const images = await readImages(req, maxBodyBytes, maxBodyMb);
    const query = req.query as { normalize?: string };
    const normalize = query.normalize !== 'false' && query.normalize !== '0';
    const samples = await Promise.all(
      images.map((bytes, i) =>
        extractor.prepare(bytes, images.length === 1 ? 'image' : `images[${i}]`),
      ),
    );
    const rows = await embed(samples.map((s) => ({ data: s.data, dims: s.dims.slice(1) })));
    const embeddings = rows.map((r) => Array.from(normalize ? l2Normalize(r) : r));
    return { model: name, dim: embeddings[0]?.length ?? 0, normalized: normalize, embeddings };
  });

  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  return {
    app,
    name,
    extractor,
    metrics,
    async listen({ port = 8000, host = '127.0.0.1' } = {}) {
      return app.listen({ port, host });
    },
    close() {
      closed ??= (async () => {
        closing = true;
        // Stops accepting and waits for every request received so far to be answered; their
        // samples are in the batcher, which keeps running until the last one is out.
        await app.close();
        await batcher.close(
          new EbmError(
            'DISPOSED',
            `the server is shutting down; model "${name}" takes no more requests.`,
          ),
        );
        await extractor.dispose();
      })();
      return closed;
    },
  };
}

/** The images of a /v1/embed request: the raw body (one image) or every file part of a multipart body. */
async function readImages(
  req: FastifyRequest,
  maxBytes: number,
  maxBodyMb: number,
): Promise<Uint8Array[]> {
  if (req.isMultipart()) {
    const images: Uint8Array[] = [];
    let total = 0;
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      const bytes = await part.toBuffer();
      total += bytes.length;
      if (total > maxBytes) {
        throw httpError(
          413,
          'INVALID_ARGUMENT',
          `request body too large: the limit is ${maxBodyMb} MB (--max-body-mb).`,
        );
      }
      images.push(bytes);
    }
    if (images.length === 0) {
      throw httpError(
        400,
        'INVALID_ARGUMENT',
        'multipart body has no file part; send each image as a file field.',
      );
    }
    return images;
  }
  const body = req.body;
  if (!(body instanceof Uint8Array) || body.length === 0) {
    throw httpError(
      415,
      'UNSUPPORTED',
      `POST /v1/embed takes the image bytes (Content-Type image/* or application/octet-stream) or multipart/form-data files, received ${body === undefined || (body instanceof Uint8Array && body.length === 0) ? 'an empty body' : `Content-Type ${req.headers['content-type'] ?? 'none'}`}.`,
    );
  }
  return [body];
}
