import { EbmError } from './errors.js';

/**
 * A minimal protobuf wire-format reader: enough to walk an ONNX ModelProto for its metadata and
 * graph signature without a protobuf dependency. Length-delimited fields (weights included) are
 * skipped in O(1), so reading the signature of a large model stays cheap.
 */
export class ProtoReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint as a JS number (exact below 2^53, which every size and enum here is). */
  varint(): number {
    let result = 0;
    let factor = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.fail('a varint runs past the end');
      const byte = this.bytes[this.pos++]!;
      result += (byte & 0x7f) * factor;
      if ((byte & 0x80) === 0) return result;
      factor *= 128;
    }
    throw this.fail('a varint is longer than 10 bytes');
  }

  /** Reads a field tag; returns [field number, wire type]. */
  tag(): [number, number] {
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) throw this.fail('field number 0');
    return [field, wire];
  }

  /** A sub-reader over a length-delimited field. */
  sub(): ProtoReader {
    const length = this.varint();
    const start = this.pos;
    if (start + length > this.end)
      throw this.fail(`a field of ${length} bytes runs past the end (truncated file?)`);
    this.pos = start + length;
    return new ProtoReader(this.bytes, start, start + length);
  }

  string(): string {
    const r = this.sub();
    return new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(r.pos, r.end));
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.sub();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw this.fail(`unsupported wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw this.fail('a fixed-size field runs past the end');
    this.pos += n;
  }

  fail(what: string): EbmError {
    return new EbmError('CORRUPT_FILE', `protobuf parse failed at byte ${this.pos}: ${what}`, {
      offset: this.pos,
    });
  }
}
