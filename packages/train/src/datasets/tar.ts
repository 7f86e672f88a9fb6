import { EbmError } from '@ebmjs/core';

/** A regular file inside a tar archive. */
export interface TarEntry {
  /** Its path in the archive, without a leading "./". */
  readonly name: string;
  readonly size: number;
}

/** Receives one member's bytes, in order, as views of the chunks fed to the reader. */
export type TarEntrySink = (chunk: Uint8Array) => void;

const BLOCK = 512;
/** GNU long names and pax headers are read whole; real ones are a few hundred bytes. */
const MAX_META_BYTES = 1 << 20;

interface Current {
  name: string;
  remaining: number;
  sink: TarEntrySink | undefined;
  /** Collected bytes of a GNU long-name ('L') or pax ('x') member. */
  meta?: { type: 'L' | 'x'; chunks: Uint8Array[] };
}

/**
 * A streaming tar reader (ustar, GNU long names, pax paths and sizes) fed chunk by chunk, so an
 * archive of gigabytes never sits in memory: each regular file's data goes to the sink that
 * `onEntry` returns for it, as views of the chunks fed in (no copy); other members are skipped.
 */
export class TarReader {
  private readonly header = new Uint8Array(BLOCK);
  private headerFill = 0;
  private current: Current | undefined;
  private padding = 0;
  private ended = false;
  private longName: string | undefined;
  private pax: Record<string, string> = {};

  constructor(
    private readonly what: string,
    private readonly onEntry: (entry: TarEntry) => TarEntrySink | undefined,
  ) {}

  /** True once the end-of-archive block has been read (the rest of the input is ignored). */
  get finished(): boolean {
    return this.ended;
  }

  write(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.ended) {
      const current = this.current;
      if (current) {
        const n = Math.min(current.remaining, chunk.length - i);
        const part = chunk.subarray(i, i + n);
        if (current.meta) current.meta.chunks.push(part.slice());
        else current.sink?.(part);
        current.remaining -= n;
        i += n;
        if (current.remaining === 0) this.finishMember();
      } else if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - i);
        this.padding -= n;
        i += n;
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - i);
        this.header.set(chunk.subarray(i, i + n), this.headerFill);
        this.headerFill += n;
        i += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.readHeader();
        }
      }
    }
  }

  /** The input is over: a member cut short means a truncated archive. */
  end(): void {
    if (this.ended) return;
    if (this.current || this.padding > 0 || this.headerFill > 0) {
      const where = this.current ? `inside ${this.current.name}` : 'inside a header';
      throw new EbmError(
        'CORRUPT_FILE',
        `${this.what}: the tar archive ends ${where}, expected the rest of it (truncated file).`,
        { file: this.what },
      );
    }
  }

  private readHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    const stored = parseNumber(h, 148, 8);
    let sum = 0;
    for (let k = 0; k < BLOCK; k++) sum += k >= 148 && k < 156 ? 32 : h[k]!;
    if (stored !== sum) {
      throw new EbmError(
        'CORRUPT_FILE',
        `${this.what}: tar header checksum ${stored}, expected ${sum} (not a tar archive, or a corrupt one).`,
        { file: this.what },
      );
    }
    let name = cString(h, 0, 100);
    if (cString(h, 257, 5) === 'ustar') {
      const prefix = cString(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let size = parseNumber(h, 124, 12);
    const type = h[156] === 0 ? '0' : String.fromCharCode(h[156]!);
    if (type === 'L' || type === 'x') {
      if (size > MAX_META_BYTES) {
        throw new EbmError(
          'CORRUPT_FILE',
          `${this.what}: a tar ${type === 'L' ? 'long-name' : 'pax'} header of ${size} bytes, expected at most ${MAX_META_BYTES}.`,
          { file: this.what },
        );
      }
      this.begin({ name, remaining: size, sink: undefined, meta: { type, chunks: [] } });
      return;
    }
    // A pax header or GNU long name describes the member that follows it.
    if (this.pax['path'] !== undefined) name = this.pax['path'];
    else if (this.longName !== undefined) name = this.longName;
    if (this.pax['size'] !== undefined) size = Number(this.pax['size']);
    this.pax = {};
    this.longName = undefined;
    if (!(Number.isSafeInteger(size) && size >= 0)) {
      throw new EbmError(
        'CORRUPT_FILE',
        `${this.what}: tar member ${name} has size ${size}, expected a byte count.`,
        {
          file: this.what,
        },
      );
    }
    name = name.replace(/^(\.\/)+/, '');
    const regular = type === '0' || type === '7';
    const sink = regular ? this.onEntry({ name, size }) : undefined;
    this.begin({ name, remaining: size, sink });
  }

  private begin(member: Current): void {
    this.padding = (BLOCK - (member.remaining % BLOCK)) % BLOCK;
    this.current = member;
    if (member.remaining === 0) this.finishMember();
  }

  private finishMember(): void {
    const meta = this.current?.meta;
    this.current = undefined;
    if (!meta) return;
    const text = new TextDecoder().decode(Buffer.concat(meta.chunks));
    if (meta.type === 'L') this.longName = text.replace(/\0+$/, '');
    else this.pax = parsePax(text);
  }
}

function cString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}

/** A numeric header field: octal ASCII, or base-256 when the first byte's high bit is set. */
function parseNumber(bytes: Uint8Array, start: number, length: number): number {
  if (bytes[start]! & 0x80) {
    let value = bytes[start]! & 0x7f;
    for (let k = start + 1; k < start + length; k++) value = value * 256 + bytes[k]!;
    return value;
  }
  const text = cString(bytes, start, length).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** pax extended header records: "<length> <key>=<value>\n". */
function parsePax(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\d+ ([^=]+)=(.*)$/s.exec(line);
    if (match) out[match[1]!] = match[2]!;
  }
  return out;
}
