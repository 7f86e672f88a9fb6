import { PgVectorIndex } from '@ebmjs/pgvector';
import { collectImageFiles, embedFiles, FeatureExtractor, writeEmbeddings } from '@ebmjs/web-infer';
import { choiceFlag, numberFlag, parseFlags, requirePath } from '../args.js';
import { CliUsageError } from '../usage-error.js';
import type { Command } from './command.js';

const OPTIONS = {
  out: { type: 'string' },
  device: { type: 'string' },
  'batch-size': { type: 'string' },
  'skip-errors': { type: 'boolean', default: false },
  index: { type: 'string' },
  table: { type: 'string' },
} as const;

export const embed: Command = {
  name: 'embed',
  summary: 'embed image files with an exported ONNX encoder (onnxruntime-node)',
  help: [
    'Usage: ebm embed model.onnx <files or dirs...> [--out embeddings.jsonl|.npy] [options]',
    '',
    'Options:',
    '  --out <file>            .jsonl (one {"path","embedding"} per line) or .npy (+ <name>.paths.txt);',
    '                          default: JSON lines on stdout',
    '  --device <auto|cpu|cuda> ONNX Runtime device (default auto: cuda when available, else cpu)',
    '  --batch-size <n>        images per ONNX Runtime call',
    '  --skip-errors           skip files that do not decode instead of failing',
    '  --index <postgres://…>  upsert the embeddings into a pgvector table (id = file path,',
    '                          metadata {"path"}); created with an HNSW cosine index if missing',
    '  --table <name>          the table for --index (default ebm_embeddings)',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS, { positionals: Number.POSITIVE_INFINITY });
    const [model, ...inputs] = flags.positionals;
    if (model === undefined || inputs.length === 0)
      throw new CliUsageError('usage: ebm embed model.onnx <files or dirs...>.');
    const device =
      choiceFlag(flags.string('device'), 'device', ['auto', 'cpu', 'cuda'] as const) ?? 'auto';
    const batchSize = numberFlag(flags.string('batch-size'), 'batch-size', {
      integer: true,
      min: 1,
    });
    const out = flags.string('out');
    if (out !== undefined && !/\.(jsonl|npy)$/i.test(out))
      throw new CliUsageError(`--out must end in .jsonl or .npy, received "${out}".`);
    const indexUrl = flags.string('index');
    if (indexUrl !== undefined && !/^postgres(ql)?:\/\//i.test(indexUrl))
      throw new CliUsageError('--index must be a postgres:// or postgresql:// connection string.');
    if (flags.string('table') !== undefined && indexUrl === undefined)
      throw new CliUsageError('--table needs --index postgres://….');
    // A URL is fetched by the extractor; a path must be a file before anything is read.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(model)) await requirePath(model, 'model file', 'file');
    const files = await collectImageFiles(inputs);
    if (files.length === 0)
      throw new CliUsageError(`no image files found in ${inputs.join(', ')}.`);
    const extractor = await FeatureExtractor.create(model, {
      device,
      ...(batchSize ? { batchSize } : {}),
    });
    try {
      const started = performance.now();
      const { rows, failed } = await embedFiles(extractor, files, {
        onError: flags.bool('skip-errors') ? 'skip' : 'throw',
      });
      if (out) await writeEmbeddings(out, rows);
      if (indexUrl !== undefined) await fillIndex(indexUrl, flags.string('table'), rows, io);
      else if (!out)
        for (const row of rows)
          io.out(JSON.stringify({ path: row.path, embedding: Array.from(row.embedding) }));
      for (const f of failed) io.err(`skipped ${f.path}: ${f.error.message}`);
      io.err(
        `embedded ${rows.length} image(s) on ${extractor.device} in ${((performance.now() - started) / 1000).toFixed(2)} s` +
          (out ? ` -> ${out}` : ''),
      );
    } finally {
      await extractor.dispose();
    }
    return 0;
  },
};

/** Upserts the rows into a pgvector table (made if missing), in batched statements. */
async function fillIndex(
  url: string,
  table: string | undefined,
  rows: { path: string; embedding: Float32Array }[],
  io: { err(line: string): void },
): Promise<void> {
  if (rows.length === 0) return;
  const index = await PgVectorIndex.create(url, {
    dim: rows[0]!.embedding.length,
    ...(table ? { table } : {}),
  });
  try {
    await index.setAll(rows.map((r) => [r.path, r.embedding, { path: r.path }] as const));
    io.err(
      `upserted ${rows.length} embedding(s) into table ${index.table} (${await index.size()} rows)`,
    );
  } finally {
    await index.close();
  }
}
