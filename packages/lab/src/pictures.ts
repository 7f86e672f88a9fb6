import { writeFileAtomic } from '@ebmjs/contract/node';
import { EbmError } from '@ebmjs/core';
import type { Grid } from './grid.js';

/** An RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

// Viridis at 9 stops (matplotlib), interpolated linearly: perceptually even, dark = low density.
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** Viridis colour of t ∈ [0, 1]. */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

/**
 * A panel of the density exp(−E)/Z on the grid (the energy surface through the Gibbs map),
 * scaled to its own maximum, with y pointing up. `points` (row-major [m, 2]) are drawn on top
 * as single white pixels.
 */
export function densityPanel(
  gridEnergies: Float32Array,
  grid: Grid,
  size: number,
  points?: Float32Array,
): RgbImage {
  const { n, box } = grid;
  if (gridEnergies.length !== n * n) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `densityPanel: expected ${n * n} grid energies, received ${gridEnergies.length}.`,
    );
  }
  let min = Number.POSITIVE_INFINITY;
  for (const e of gridEnergies) if (e < min) min = e;
  const data = new Uint8Array(size * size * 3);
  for (let py = 0; py < size; py++) {
    const j = n - 1 - Math.min(n - 1, Math.floor(((py + 0.5) / size) * n));
    for (let px = 0; px < size; px++) {
      const i = Math.min(n - 1, Math.floor(((px + 0.5) / size) * n));
      const rgb = viridis(Math.exp(min - gridEnergies[j * n + i]!));
      data.set(rgb, 3 * (py * size + px));
    }
  }
  if (points) {
    const span = box.hi - box.lo;
    for (let k = 0; k < points.length / 2; k++) {
      const x = Math.floor(((points[2 * k]! - box.lo) / span) * size);
      const y = size - 1 - Math.floor(((points[2 * k + 1]! - box.lo) / span) * size);
      if (x < 0 || y < 0 || x >= size || y >= size) continue;
      // One pixel blended half-way to white keeps the surface visible underneath.
      const o = 3 * (y * size + x);
      for (let c = 0; c < 3; c++) data[o + c] = Math.round((data[o + c]! + 255) / 2);
    }
  }
  return { width: size, height: size, data };
}

/** A grey image from values in [0, 1] (an RBM's visible probabilities), each pixel `scale`×`scale`. */
export function grayImage(values: ArrayLike<number>, width: number, scale = 1): RgbImage {
  const height = values.length / width;
  const out = new Uint8Array(width * scale * height * scale * 3);
  const w = width * scale;
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < w; x++) {
      const v = values[Math.floor(y / scale) * width + Math.floor(x / scale)]!;
      const g = Math.round(255 * Math.min(1, Math.max(0, v)));
      out.fill(g, 3 * (y * w + x), 3 * (y * w + x) + 3);
    }
  }
  return { width: w, height: height * scale, data: out };
}

export interface PanelGridLayout {
  /** Column titles, drawn above the first row. */
  columns: readonly string[];
  /** One entry per row: its label (left margin) and one image per column (missing: blank). */
  rows: readonly {
    label: string;
    cells: readonly (RgbImage | undefined)[];
    notes?: readonly string[];
  }[];
  /** Optional caption under the grid. */
  caption?: string;
  /** Width of the row-label margin. Default 110. */
  labelWidth?: number;
}

const escapeXml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * Lays images out in a labelled grid and writes a PNG (sharp; the text is an SVG overlay
 * rendered by librsvg). Every cell of a column has the size of that column's first image.
 */
export async function writePanelGrid(path: string, layout: PanelGridLayout): Promise<void> {
  const { default: sharp } = await import('sharp');
  const labelWidth = layout.labelWidth ?? 110;
  const gap = 6;
  const header = 24;
  const noteHeight = layout.rows.some((r) => r.notes?.length) ? 16 : 0;
  const colWidths = layout.columns.map((_, c) =>
    Math.max(0, ...layout.rows.map((r) => r.cells[c]?.width ?? 0)),
  );
  const rowHeights = layout.rows.map((r) => Math.max(1, ...r.cells.map((im) => im?.height ?? 0)));
  const width = labelWidth + colWidths.reduce((a, w) => a + w + gap, 0) + gap;
  const captionHeight = layout.caption ? 26 : 0;
  const height =
    header + rowHeights.reduce((a, h) => a + h + noteHeight + gap, 0) + gap + captionHeight;
  const composites: {
    input: Buffer;
    raw?: { width: number; height: number; channels: 3 };
    left: number;
    top: number;
  }[] = [];
  const text: string[] = [];
  const colLeft = (c: number) =>
    labelWidth + gap + colWidths.slice(0, c).reduce((a, w) => a + w + gap, 0);
  layout.columns.forEach((title, c) => {
    text.push(
      `<text x="${colLeft(c) + colWidths[c]! / 2}" y="${header - 8}" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    );
  });
  let top = header;
  layout.rows.forEach((row, r) => {
    text.push(
      `<text x="${labelWidth - 8}" y="${top + rowHeights[r]! / 2 + 5}" text-anchor="end" font-size="13" font-weight="bold">${escapeXml(row.label)}</text>`,
    );
    row.cells.forEach((im, c) => {
      if (!im) return;
      composites.push({
        input: Buffer.from(im.data.buffer, im.data.byteOffset, im.data.byteLength),
        raw: { width: im.width, height: im.height, channels: 3 },
        left: colLeft(c),
        top,
      });
      const note = row.notes?.[c];
      if (note)
        text.push(
          `<text x="${colLeft(c) + colWidths[c]! / 2}" y="${top + rowHeights[r]! + 12}" text-anchor="middle" font-size="11">${escapeXml(note)}</text>`,
        );
    });
    top += rowHeights[r]! + noteHeight + gap;
  });
  if (layout.caption)
    text.push(
      `<text x="${gap}" y="${height - 9}" font-size="12" fill="#333">${escapeXml(layout.caption)}</text>`,
    );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">${text.join('')}</g></svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  const png = await sharp({
    create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } },
  })
    .composite(composites)
    .png()
    .toBuffer();
  await writeFileAtomic(path, png);
}
