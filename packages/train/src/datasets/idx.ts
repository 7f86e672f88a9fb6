import { EbmError } from '@ebmjs/core';

/**
 * Parses an IDX file (the format of MNIST and Fashion-MNIST): a magic number whose third byte
 * is the element type (0x08 = uint8) and fourth the rank, then one big-endian uint32 per
 * dimension, then the data.
 */
export function parseIdx(bytes: Uint8Array, what: string): { shape: number[]; data: Uint8Array } {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new EbmError('CORRUPT_FILE', `${what} is not an IDX file (bad magic number).`, {
      file: what,
    });
  }
  if (bytes[2] !== 0x08) {
    throw new EbmError(
      'UNSUPPORTED',
      `${what}: only uint8 IDX files are supported, received type 0x${bytes[2]!.toString(16)}.`,
    );
  }
  const rank = bytes[3]!;
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize)
    throw new EbmError('CORRUPT_FILE', `${what} is truncated inside its header.`, { file: what });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerSize + count) {
    throw new EbmError(
      'CORRUPT_FILE',
      `${what}: header promises shape [${shape.join(', ')}] (${count} bytes) but the file holds ${bytes.length - headerSize}.`,
      { file: what },
    );
  }
  return { shape, data: bytes.subarray(headerSize) };
}
