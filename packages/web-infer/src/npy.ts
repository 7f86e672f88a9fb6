import { EbmError } from './errors.js';

/** Encodes equal-length rows as a 2-D float32 NumPy .npy file (format 1.0, little-endian). */
export function toNpy(rows: readonly ArrayLike<number>[]): Uint8Array {
  const dim = rows[0]?.length ?? 0;
  rows.forEach((r, i) => {
    if (r.length !== dim) {
      throw new EbmError(
        'SHAPE_MISMATCH',
        `toNpy: row ${i} has ${r.length} values, row 0 has ${dim}.`,
        { expected: dim, received: r.length, row: i },
      );
    }
  });
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${dim}), }`;
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + rows.length * dim * 4);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0], 0);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  rows.forEach((r, i) => {
    for (let j = 0; j < dim; j++) view.setFloat32(total + (i * dim + j) * 4, r[j]!, true);
  });
  return out;
}
