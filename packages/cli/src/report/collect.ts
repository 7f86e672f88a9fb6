import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@ebmjs/core';
import {
  type Augmentation,
  type Embedder,
  type EpochRecord,
  embedDataset,
  type ImageDataset,
  imageSize,
  type StepRecord,
  subset,
} from '@ebmjs/train';
import { readMetrics, readStepMetrics } from '@ebmjs/train/node';
import type { GalleryRow } from './gallery.js';
import type { Projections } from './html.js';
import { cosineTopK } from './neighbours.js';
import { pca } from './pca.js';
import { pngDataUrl } from './png.js';
import { umapProject } from './umap.js';
import { augmentedPairs, type ViewPair } from './views.js';

/** Row-major embeddings [n × dim]. */
export interface Embedded {
  embeddings: Float32Array;
  dim: number;
}

/** Embeds a dataset: a tfjs encoder (see tfjsEmbed), ONNX Runtime, anything. */
export type EmbedFn = (ds: ImageDataset) => Promise<Embedded> | Embedded;

export interface EmbeddingPartsOptions {
  embed: EmbedFn;
  /** The gallery's bank and the augmented views come from here. */
  train: ImageDataset;
  /** Projected and queried; default `train` (then the captions say so). */
  test?: ImageDataset;
  /** The recipe's augmentation (see recipeAugmentation); no views without it. */
  augmentation?: Augmentation;
  seed?: number;
  /** Embeddings projected by PCA and UMAP. Default 2000. */
  projectCount?: number;
  /** Training images the gallery searches. Default 5000. */
  bankCount?: number;
  /** Gallery rows and neighbours per row. Default 12 and 5. */
  galleryCount?: number;
  neighbours?: number;
  /** Images shown with their two views. Default 8. */
  viewCount?: number;
  /** UMAP is the slow part (seconds per 2,000 points); false leaves PCA alone. Default true. */
  umap?: boolean;
}

/** `count` rows of `ds` drawn without replacement by a seeded Rng (all rows when fewer). */
function sample(ds: ImageDataset, count: number, seed: number): Int32Array {
  const n = ds.labels.length;
  return count >= n
    ? Int32Array.from({ length: n }, (_, i) => i)
    : new Rng(seed).permutation(n, count);
}

/** Up to `count` positions of `labels`, taking classes in turn, so the gallery shows each class. */
export function spreadOverClasses(labels: Int32Array, count: number): number[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => byClass.set(l, [...(byClass.get(l) ?? []), i]));
  const queues = [...byClass.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  const out: number[] = [];
  while (out.length < Math.min(count, labels.length)) {
    for (const q of queues) if (q.length && out.length < count) out.push(q.shift()!);
  }
  return out;
}

function image(ds: ImageDataset, i: number): { src: string; label: string } {
  const size = imageSize(ds);
  return {
    src: pngDataUrl(ds.pixels.subarray(i * size, (i + 1) * size), ds.imageShape),
    label: ds.classNames[ds.labels[i]!] ?? String(ds.labels[i]),
  };
}

/**
 * The report's embedding parts: PCA and UMAP of a test subsample, the nearest-neighbour
 * gallery (test queries, 5 nearest training images by cosine) and the augmented view pairs.
 */
export async function embeddingParts(options: EmbeddingPartsOptions): Promise<{
  projections: Projections;
  gallery: GalleryRow[];
  views: ViewPair[];
}> {
  const { train, seed = 0, neighbours: k = 5 } = options;
  const test = options.test ?? train;
  const projected = subset(test, sample(test, options.projectCount ?? 2000, seed));
  const bank = subset(train, sample(train, options.bankCount ?? 5000, seed + 1));
  const [p, b] = [await options.embed(projected), await options.embed(bank)];
  const n = projected.labels.length;
  const projections: Projections = {
    labels: projected.labels,
    classNames: test.classNames,
    what: `${n.toLocaleString('en-US')} ${options.test ? 'test' : 'training'} embeddings`,
    pca: pca(p.embeddings, n, p.dim, 2).projected,
    // umap-js needs more points than neighbours.
    ...(options.umap !== false && n > 16
      ? { umap: umapProject(p.embeddings, n, p.dim, { seed }) }
      : {}),
  };
  const queries = spreadOverClasses(projected.labels, options.galleryCount ?? 12);
  const found = cosineTopK(
    Float32Array.from(
      queries.flatMap((q) => [...p.embeddings.subarray(q * p.dim, (q + 1) * p.dim)]),
    ),
    b.embeddings,
    b.dim,
    Math.min(k, bank.labels.length),
  );
  const gallery = queries.map((q, r) => ({
    query: image(projected, q),
    neighbours: found[r]!.indices.map((i, j) => ({
      ...image(bank, i),
      similarity: found[r]!.similarities[j]!,
    })),
  }));
  const views = options.augmentation
    ? await augmentedPairs(
        train,
        sample(train, options.viewCount ?? 8, seed + 2),
        options.augmentation,
        new Rng(seed + 3),
      )
    : [];
  return { projections, gallery, views };
}

/** An EmbedFn for a tfjs encoder (inference mode), disposing its tensors. */
export function tfjsEmbed(encoder: Embedder): EmbedFn {
  return async (ds) => {
    const t = embedDataset(encoder, ds);
    try {
      return { embeddings: (await t.data()) as Float32Array, dim: t.shape[1] };
    } finally {
      t.dispose();
    }
  };
}

const exists = async (p: string) => (await stat(p).catch(() => undefined)) !== undefined;

/** The epoch and step records of `<runDir>/metrics.jsonl` (none when there is no log yet). */
export async function readRunLog(
  runDir: string,
): Promise<{ history: EpochRecord[]; steps: StepRecord[] }> {
  const path = join(runDir, 'metrics.jsonl');
  if (!(await exists(path))) return { history: [], steps: [] };
  return { history: await readMetrics(path), steps: await readStepMetrics(path) };
}

/** `<runDir>/run.json` as written by `ebm train` (its backend too, when recorded), or undefined. */
export async function readRunJson(runDir: string): Promise<Record<string, unknown> | undefined> {
  const path = join(runDir, 'run.json');
  if (!(await exists(path))) return undefined;
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}
