import { deflateSync } from 'node:zlib';

// PNG (RFC 2083) written by hand: the report inlines small images as data: URLs, and a PNG
// of a 28×28 digit is a few hundred bytes with no image library.

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes an 8-bit image (HWC bytes, 1 channel gray or 3 channels RGB) as PNG bytes.
 */
export function encodePng(pixels: Uint8Array, height: number, width: number, channels: 1 | 3) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: gray or RGB
  const stride = width * channels;
  // Every scanline starts with its filter byte (0: none).
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++)
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** The image as a `data:image/png;base64,…` URL (channels other than 1 or 3 keep the first three). */
export function pngDataUrl(
  pixels: Uint8Array,
  [height, width, channels]: readonly [number, number, number],
): string {
  let bytes = pixels;
  let c: 1 | 3 = channels === 1 ? 1 : 3;
  if (channels !== 1 && channels !== 3) {
    bytes = new Uint8Array(height * width * 3);
    for (let i = 0; i < height * width; i++)
      for (let k = 0; k < 3; k++)
        bytes[i * 3 + k] = pixels[i * channels + Math.min(k, channels - 1)]!;
    c = 3;
  }
  return `data:image/png;base64,${encodePng(bytes, height, width, c).toString('base64')}`;
}
