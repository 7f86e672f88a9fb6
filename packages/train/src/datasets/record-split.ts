import { EbmError } from '@ebmjs/core';
import type { TarEntry, TarEntrySink } from './tar.js';

/** Fixed-size records: `labelBytes` label bytes, then one image stored planar. */
export interface RecordFormat {
  readonly labelBytes: number;
  /** Where each stored image byte goes in the HWC image (its length is the image's size). */
  readonly layout: Int32Array;
}

/** Records of a split: HWC pixels and, per label byte of a record, one array of labels. */
export interface DecodedRecords {
  readonly count: number;
  readonly pixels: Uint8Array;
  readonly labels: readonly Uint8Array[];
}

/**
 * The HWC position of each byte of a planar image: channel after channel, each channel's
 * `height × width` plane row-major (CIFAR: x varies fastest) or column-major (STL-10: y
 * varies fastest, the MATLAB order of the original files).
 */
export function planarToHwc(
  height: number,
  width: number,
  channels: number,
  order: 'row-major' | 'column-major',
): Int32Array {
  const layout = new Int32Array(height * width * channels);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const stored =
          c * height * width + (order === 'row-major' ? y * width + x : x * height + y);
        layout[stored] = (y * width + x) * channels + c;
      }
    }
  }
  return layout;
}

function allocate(format: RecordFormat, count: number): DecodedRecords {
  return {
    count,
    pixels: new Uint8Array(count * format.layout.length),
    labels: Array.from({ length: format.labelBytes }, () => new Uint8Array(count)),
  };
}

/**
 * A sink decoding `take` records of a member straight into `target` from record `offset` on:
 * each byte goes to its place as it streams by, so neither the member nor an image is copied
 * whole first. `onComplete` runs once the `take` records are in (the rest is skipped).
 */
function decoder(
  format: RecordFormat,
  target: DecodedRecords,
  offset: number,
  take: number,
  onComplete: () => void,
): TarEntrySink {
  const { labelBytes, layout } = format;
  const imageBytes = layout.length;
  const recordBytes = labelBytes + imageBytes;
  let record = 0;
  let pos = 0;
  let base = offset * imageBytes;
  if (take === 0) onComplete();
  return (chunk) => {
    const { pixels } = target;
    let i = 0;
    while (i < chunk.length && record < take) {
      if (pos < labelBytes) {
        target.labels[pos]![offset + record] = chunk[i]!;
        pos++;
        i++;
      } else {
        const n = Math.min(chunk.length - i, recordBytes - pos);
        let p = pos - labelBytes;
        for (let k = i; k < i + n; k++) pixels[base + layout[p++]!] = chunk[k]!;
        i += n;
        pos += n;
      }
      if (pos === recordBytes) {
        pos = 0;
        record++;
        base += imageBytes;
        if (record === take) onComplete();
      }
    }
  };
}

/**
 * One split's records spread over archive members (CIFAR-10's five training batches), meant in
 * the canonical member order however the archive orders them: the first `limit` records.
 * Members are decoded as the tar reader meets them; the last one needed is decoded in place
 * into the split's buffers, the earlier ones (decoded apart) copied in, so a split held in one
 * member (most) is never copied and reading stops as soon as `limit` records are in.
 */
export class RecordSplit {
  private readonly counts = new Map<string, number>();
  private readonly parts = new Map<string, DecodedRecords>();
  private records: DecodedRecords | undefined;
  private complete = false;

  constructor(
    private readonly what: string,
    private readonly members: readonly string[],
    private readonly format: RecordFormat,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {}

  get done(): boolean {
    return this.complete;
  }

  /** How many records a member holds, once the archive reader has met it. */
  memberCount(name: string): number | undefined {
    return this.counts.get(name);
  }

  /** The sink for an archive member: undefined when it is not one this split needs. */
  sinkFor(entry: TarEntry): TarEntrySink | undefined {
    if (this.complete || !this.members.includes(entry.name)) return undefined;
    const recordBytes = this.format.labelBytes + this.format.layout.length;
    if (entry.size % recordBytes !== 0) {
      throw new EbmError(
        'CORRUPT_FILE',
        `${this.what}: ${entry.name} holds ${entry.size} bytes, expected a multiple of its ${recordBytes}-byte records.`,
        { file: entry.name },
      );
    }
    const count = entry.size / recordBytes;
    this.counts.set(entry.name, count);
    const plan = this.plan();
    if (plan === undefined) {
      // Earlier members are still to come: decode this one apart.
      const part = allocate(this.format, Math.min(count, this.limit));
      return decoder(this.format, part, 0, part.count, () => this.parts.set(entry.name, part));
    }
    const mine = plan.needed.find((p) => p.name === entry.name);
    if (mine === undefined) return undefined; // past the first `limit` records
    if (!plan.needed.every((p) => p.name === entry.name || this.parts.has(p.name))) {
      const part = allocate(this.format, mine.take);
      return decoder(this.format, part, 0, mine.take, () => this.parts.set(entry.name, part));
    }
    const records = allocate(this.format, plan.total);
    for (const p of plan.needed) {
      const part = this.parts.get(p.name);
      if (part === undefined) continue;
      const size = this.format.layout.length;
      records.pixels.set(part.pixels.subarray(0, p.take * size), p.offset * size);
      part.labels.forEach((l, k) => records.labels[k]!.set(l.subarray(0, p.take), p.offset));
    }
    this.parts.clear();
    this.records = records;
    return decoder(this.format, records, mine.offset, mine.take, () => {
      this.complete = true;
    });
  }

  /** The decoded records, or a CORRUPT_FILE error naming the members the archive lacked. */
  result(): DecodedRecords {
    if (this.complete && this.records) return this.records;
    const missing = this.members.filter((m) => !this.counts.has(m));
    throw new EbmError(
      'CORRUPT_FILE',
      `${this.what}: the archive lacks ${missing.join(', ') || 'the end of a member'}, expected ${this.members.join(', ')}.`,
      { missing },
    );
  }

  /** Which members hold the first `limit` records, once their sizes are all known. */
  private plan():
    | { needed: { name: string; offset: number; take: number }[]; total: number }
    | undefined {
    const needed: { name: string; offset: number; take: number }[] = [];
    let offset = 0;
    for (const name of this.members) {
      if (offset >= this.limit) break;
      const count = this.counts.get(name);
      if (count === undefined) return undefined;
      const take = Math.min(count, this.limit - offset);
      needed.push({ name, offset, take });
      offset += take;
    }
    return { needed, total: offset };
  }
}
