import { EbmError, Rng } from '@ebmjs/core';
import { batchIndices } from '../datasets/dataset.js';

export interface MPerClassSamplerOptions {
  /** One class label per dataset row (integers ≥ 0). */
  labels: ArrayLike<number>;
  /** Samples of each class in a batch. */
  m: number;
  /** Rows per batch: a multiple of `m`, so a batch holds batchSize / m classes. */
  batchSize: number;
  /** The draws follow this seed only. Default 0. */
  seed?: number;
  /** Batches to yield (one epoch). Default ⌊labels.length / batchSize⌋, the loop's steps per epoch. */
  batches?: number;
}

/**
 * pytorch-metric-learning's MPerClassSampler: every batch holds batchSize / m distinct classes
 * with exactly m rows each (distinct rows when the class has ≥ m; a class of n < m rows gives
 * all n and repeats some, where PML samples it with replacement). PML draws the classes and the rows afresh for every batch;
 * here both are drawn from shuffled cycles (the classes, and each class's rows, in a random
 * order, reshuffled when used up), which gives the same batches in distribution and, over the
 * `batches` yielded, balanced draws: each class is in ⌊T·k/C⌋ or ⌈T·k/C⌉ of the T batches
 * (k = batchSize / m classes a batch, C classes), and within a class each row is drawn
 * ⌊t·m/n⌋ or ⌈t·m/n⌉ times when its n rows are drawn t·m times. The sequence is a function of
 * the options alone: the loop makes one per epoch from the seed and the epoch, as its shuffle.
 * Validates at once (the batches are drawn lazily).
 */
export function mPerClassSampler(options: MPerClassSamplerOptions): Generator<Int32Array> {
  const { labels, m, batchSize, seed = 0 } = options;
  const where = 'mPerClassSampler';
  if (!Number.isInteger(m) || m < 1)
    throw new EbmError('INVALID_ARGUMENT', `${where}: m must be an integer ≥ 1, received ${m}.`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: batchSize must be an integer ≥ 1, received ${batchSize}.`,
    );
  if (batchSize % m !== 0)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: batchSize must be a multiple of m (m rows of each class), received batchSize ${batchSize} and m ${m}.`,
    );
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0)
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${where}: labels must be integers ≥ 0 (a labelled dataset), received ${label} at row ${i}.`,
      );
    const rows = byClass.get(label);
    if (rows) rows.push(i);
    else byClass.set(label, [i]);
  }
  const perBatch = batchSize / m;
  if (byClass.size < perBatch)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: a batch of ${batchSize} at m ${m} needs ${perBatch} classes, received labels of ${byClass.size} class${byClass.size === 1 ? '' : 'es'}.`,
    );
  const batches = options.batches ?? Math.floor(labels.length / batchSize);
  if (!Number.isInteger(batches) || batches < 0)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: batches must be an integer ≥ 0, received ${batches}.`,
    );
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  return draw(classes, byClass, { m, perBatch, batches, rng: new Rng(seed) });
}

function* draw(
  classes: number[],
  byClass: Map<number, number[]>,
  { m, perBatch, batches, rng }: { m: number; perBatch: number; batches: number; rng: Rng },
): Generator<Int32Array> {
  const classCycle = new Cycle(classes, rng);
  const rowCycles = new Map(classes.map((c) => [c, new Cycle(byClass.get(c)!, rng)]));
  for (let b = 0; b < batches; b++) {
    const batch = new Int32Array(perBatch * m);
    const chosen = classCycle.take(perBatch);
    chosen.forEach((c, k) => {
      const rows = rowCycles.get(c)!;
      // A class with fewer than m rows repeats them (PML samples it with replacement): all of
      // its rows, then as many more as m needs, each pass without repeats.
      for (let done = 0; done < m; ) {
        const part = rows.take(Math.min(m - done, rows.size));
        batch.set(part, k * m + done);
        done += part.length;
      }
    });
    yield batch;
  }
}

/**
 * Items in a shuffled order, reshuffled each time all are used. `take(k)` (k ≤ size) returns
 * the next k distinct items: one that the reshuffle at a cycle's end brings again within the
 * call is deferred to the front of the next call, so no item falls a cycle behind.
 */
class Cycle {
  private order: number[] = [];
  private head = 0;
  private deferred: number[] = [];

  constructor(
    private readonly items: readonly number[],
    private readonly rng: Rng,
  ) {}

  get size(): number {
    return this.items.length;
  }

  take(k: number): number[] {
    const out: number[] = [];
    const taken = new Set<number>();
    const later: number[] = [];
    const offer = (item: number) => {
      if (out.length === k || taken.has(item)) later.push(item);
      else {
        out.push(item);
        taken.add(item);
      }
    };
    for (const item of this.deferred) offer(item);
    while (out.length < k) {
      if (this.head === this.order.length) {
        this.order = Array.from(this.rng.permutation(this.items.length), (i) => this.items[i]!);
        this.head = 0;
      }
      offer(this.order[this.head++]!);
    }
    this.deferred = later;
    return out;
  }
}

/** How the loop orders a dataset into batches. */
export type SamplerOption = 'random' | { mPerClass: number };

/** Checks a `TrainConfig.sampler` against what the recipe hands the loop. */
export function checkSampler(sampler: unknown, recipe: string, labels?: ArrayLike<number>): void {
  if (sampler === undefined || sampler === 'random') return;
  const m = (sampler as { mPerClass?: unknown } | null)?.mPerClass;
  if (
    sampler === null ||
    typeof sampler !== 'object' ||
    typeof m !== 'number' ||
    Object.keys(sampler).length !== 1
  )
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${recipe}: sampler must be 'random' or { mPerClass: m }, received ${JSON.stringify(sampler)}.`,
    );
  if (!labels)
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${recipe}: sampler { mPerClass } needs a labelled recipe (one that hands the loop its labels); ${recipe} trains without labels, received sampler { mPerClass: ${m} }.`,
    );
}

/**
 * The batches of one epoch: the seeded shuffle ('random', the last short batch dropped) or
 * `mPerClassSampler` over the labels. Both follow `seed` alone, so a resume at any step of the
 * epoch replays them.
 */
export function epochBatches(
  sampler: SamplerOption | undefined,
  {
    size,
    labels,
    batchSize,
    seed,
  }: { size: number; labels?: ArrayLike<number>; batchSize: number; seed: number },
): Iterable<Int32Array> {
  if (sampler === undefined || sampler === 'random')
    return batchIndices(size, { batchSize, seed, dropLast: true });
  return mPerClassSampler({ labels: labels!, m: sampler.mPerClass, batchSize, seed });
}
