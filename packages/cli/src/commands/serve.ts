import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { exportOnnx } from '@ebmjs/export';
import { createServer } from '@ebmjs/serve';
import { choiceFlag, numberFlag, parseFlags, requirePath } from '../args.js';
import { loadRunEncoder } from '../run-dir.js';
import { CliUsageError } from '../usage-error.js';
import type { Command } from './command.js';

const OPTIONS = {
  name: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
  'max-batch': { type: 'string' },
  'max-queue-delay-ms': { type: 'string' },
  'max-body-mb': { type: 'string' },
} as const;

const exists = (p: string) =>
  stat(p).then(
    (s) => s,
    () => undefined,
  );

/**
 * What to serve: an .onnx file or URL as is; a run directory's exported encoder.onnx/model.onnx
 * when it has one, else its trained encoder exported now (in memory, the `ebm export` defaults).
 */
async function resolveModel(path: string): Promise<{ model: string | Uint8Array; name: string }> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return { model: path, name: defaultName(path) };
  const info = await exists(path);
  if (info === undefined) await requirePath(path, 'model file or run directory', 'file');
  if (info!.isFile()) return { model: path, name: defaultName(path) };
  const dirName = basename(resolve(path)).replace(/[^A-Za-z0-9_.-]+/g, '_');
  for (const file of ['encoder.onnx', 'model.onnx']) {
    if ((await exists(join(path, file)))?.isFile())
      return { model: join(path, file), name: dirName };
  }
  const save = async (p: string) => (await exists(join(p, 'manifest.json')))?.isFile() === true;
  if (!(await save(join(path, 'encoder'))) && !(await save(path))) {
    throw new CliUsageError(
      `${path} holds no encoder.onnx, model.onnx or encoder/ save; pass an .onnx file or a run directory of \`ebm train\`.`,
    );
  }
  const { encoder, info: run } = await loadRunEncoder(path);
  try {
    const bytes = await exportOnnx(encoder.model, {
      recipe: run?.recipe,
      preprocessing: { scale: 1 / 255, mean: 0, std: 1 },
    });
    return { model: bytes, name: dirName };
  } finally {
    encoder.model.dispose();
  }
}

function defaultName(path: string): string {
  const base = basename(path.replace(/[?#].*$/, '')).replace(/\.onnx$/i, '');
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(base) ? base : 'model';
}

export const serve: Command = {
  name: 'serve',
  summary: 'serve an ONNX encoder over HTTP (KServe v2 protocol, /v1/embed, /metrics)',
  help: [
    'Usage: ebm serve <model.onnx | run-dir> [options]',
    '',
    'An embedding service on @ebmjs/serve: KServe v2 (the protocol Triton speaks) at',
    '/v2/models/<name>[/infer], POST /v1/embed for image bytes or multipart files, /metrics for',
    'Prometheus. Requests that arrive together share one ONNX Runtime run. SIGTERM or Ctrl-C',
    'drains the requests in flight, then exits.',
    '',
    'Options:',
    "  --name <name>              the model's name in the protocol (default: the file's base name)",
    '  --port <n>                 TCP port (default 8000; 0 picks a free one)',
    '  --host <addr>              address to listen on (default 127.0.0.1; 0.0.0.0 for all)',
    '  --device <auto|cpu|cuda|wasm> ONNX Runtime device (default auto: cuda when available, else cpu)',
    '  --threads <n>              ONNX Runtime intra-op threads',
    '  --max-batch <n>            most samples per ONNX Runtime run (default 32)',
    '  --max-queue-delay-ms <ms>  how long a request waits for others to share its run (default 2)',
    '  --max-body-mb <mb>         largest request body accepted (default 16); larger is 413',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS, { positionals: 1 });
    const path = flags.positionals[0];
    if (path === undefined)
      throw new CliUsageError('missing model: ebm serve <model.onnx | run-dir>.');
    const port = numberFlag(flags.string('port'), 'port', { integer: true, min: 0 }) ?? 8000;
    if (port > 65535)
      throw new CliUsageError(`--port must be an integer <= 65535, received "${port}".`);
    const host = flags.string('host') ?? '127.0.0.1';
    const device =
      choiceFlag(flags.string('device'), 'device', ['auto', 'cpu', 'cuda', 'wasm'] as const) ??
      'auto';
    const threads = numberFlag(flags.string('threads'), 'threads', { integer: true, min: 1 });
    const maxBatch = numberFlag(flags.string('max-batch'), 'max-batch', { integer: true, min: 1 });
    const maxQueueDelayMs = numberFlag(flags.string('max-queue-delay-ms'), 'max-queue-delay-ms', {
      min: 0,
    });
    const maxBodyMb = numberFlag(flags.string('max-body-mb'), 'max-body-mb', { above: 0 });
    const name = flags.string('name');
    if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
      throw new CliUsageError(
        `--name must be letters, digits, "_", "." or "-", received "${name}".`,
      );
    }
    const resolved = await resolveModel(path);
    const server = await createServer({
      model: resolved.model,
      name: name ?? resolved.name,
      device,
      ...(threads === undefined ? {} : { threads }),
      ...(maxBatch === undefined ? {} : { maxBatch }),
      ...(maxQueueDelayMs === undefined ? {} : { maxQueueDelayMs }),
      ...(maxBodyMb === undefined ? {} : { maxBodyMb }),
    });
    let url: string;
    try {
      url = await server.listen({ port, host });
    } catch (error) {
      await server.close();
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliUsageError(
        `cannot listen on ${host}:${port}${code === 'EADDRINUSE' ? ' (the port is in use)' : ''}: ${(error as Error).message}`,
      );
    }
    io.out(
      `serving "${server.name}" on ${server.extractor.device} at ${url} (KServe v2: ${url}/v2/models/${server.name}; POST ${url}/v1/embed; ${url}/metrics)`,
    );
    // Runs until SIGTERM (an orchestrator stopping it) or SIGINT (Ctrl-C), then drains.
    const signal = await new Promise<string>((done) => {
      const stop = (sig: NodeJS.Signals) => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        done(sig);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    io.err(`${signal}: finishing the requests in flight, then stopping.`);
    await server.close();
    io.err('stopped.');
    return 0;
  },
};
