// Recall@10 and query rate of @ebmjs/pgvector's PgVectorIndex (HNSW, cosine) against the exact
// in-memory EmbeddingIndex of @ebmjs/web-infer, on PGlite (or DATABASE_URL's server).
//
//   pnpm --filter @ebmjs/pgvector... build && pnpm --filter @ebmjs/web-infer build
//   node bench/pgvector-recall.mjs [--count 50000] [--dim 128] [--queries 200] [--ef 40,100]
//
// The data are seeded clustered embeddings (a mixture of Gaussians around 100 random centres,
// noise comparable to the spread of real encoder outputs); queries are fresh draws from the same
// mixture. The suite runs the same check on 5,000 (packages/pgvector/test).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    count: { type: 'string', default: '50000' },
    dim: { type: 'string', default: '128' },
    queries: { type: 'string', default: '200' },
    ef: { type: 'string', default: '40,100' },
    spread: { type: 'string', default: '0.6' },
  },
});
const pkg = new URL('../packages/pgvector/', import.meta.url);
const req = createRequire(new URL('package.json', pkg));
const load = (name) => import(pathToFileURL(req.resolve(name)).href);
const { PgVectorIndex } = await import(new URL('dist/index.js', pkg).href);
const { EmbeddingIndex } = await import(
  new URL('../packages/web-infer/dist/index.node.js', import.meta.url).href
);

function clustered(count, dim, { clusters = 100, spread = 0.6, seed = 1 } = {}) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, gauss));
  return Array.from({ length: count }, () => {
    const c = centres[Math.floor(uniform() * clusters)];
    return Float32Array.from(c, (x) => x + spread * gauss());
  });
}

const count = Number(opt.count);
const dim = Number(opt.dim);
const spread = Number(opt.spread);
let db;
let close;
if (process.env.DATABASE_URL) {
  db = process.env.DATABASE_URL;
  close = async () => {};
} else {
  const { PGlite } = await load('@electric-sql/pglite');
  const { vector } = await load('@electric-sql/pglite/vector');
  db = await PGlite.create({ extensions: { vector } });
  close = () => db.close();
}
// Both sets come from one generator run so queries share the data's cluster centres.
const all = clustered(count + Number(opt.queries), dim, { spread, seed: 11 });
const data = all.slice(0, count);
const queries = all.slice(count);
const index = await PgVectorIndex.create(db, { table: `ebm_bench_${process.pid}`, dim });
const exact = new EmbeddingIndex();
let t = performance.now();
for (let i = 0; i < count; i += 5000) {
  await index.addAll(data.slice(i, i + 5000).map((v, j) => [`v${i + j}`, v]));
  process.stderr.write(`\rinserted ${Math.min(count, i + 5000)}/${count}`);
}
const insertS = (performance.now() - t) / 1000;
process.stderr.write('\n');
data.forEach((v, i) => exact.add(`v${i}`, v));
t = performance.now();
const truth = queries.map((q) => new Set(exact.search(q, 10).map((h) => h.id)));
const exactQps = queries.length / ((performance.now() - t) / 1000);
const rows = [];
for (const ef of opt.ef.split(',').map(Number)) {
  let found = 0;
  t = performance.now();
  for (let i = 0; i < queries.length; i++) {
    const hits = await index.search(queries[i], 10, { efSearch: ef });
    found += hits.filter((h) => truth[i].has(h.id)).length;
  }
  const qps = queries.length / ((performance.now() - t) / 1000);
  rows.push({ efSearch: ef, recallAt10: found / (10 * queries.length), queriesPerSecond: qps });
}
await index.drop();
await index.close();
await close();
const result = {
  backend: process.env.DATABASE_URL
    ? 'PostgreSQL (DATABASE_URL)'
    : 'PGlite 0.4 (Postgres 17 wasm, pgvector 0.8)',
  count,
  dim,
  queries: queries.length,
  hnsw: index.hnsw,
  insertRowsPerSecond: count / insertS,
  exactQueriesPerSecond: exactQps,
  pgvector: rows,
};
console.log(JSON.stringify(result, null, 2));
