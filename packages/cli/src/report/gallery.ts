import { escapeHtml } from './markup.js';

export interface GalleryImage {
  /** A data: URL. */
  src: string;
  label: string;
}

export interface GalleryRow {
  query: GalleryImage;
  /** Nearest training images, best first, with their cosine similarity to the query. */
  neighbours: (GalleryImage & { similarity: number })[];
}

const figure = (img: GalleryImage, caption: string, cls: string) =>
  `<figure class="${cls}"><img class="thumb" alt="${escapeHtml(img.label)}" src="${img.src}"/><figcaption>${escapeHtml(caption)}</figcaption></figure>`;

/** The nearest-neighbour gallery: one row per test image, its neighbours to the right. */
export function galleryHtml(rows: readonly GalleryRow[]): string {
  if (rows.length === 0) return '';
  return `<div class="gallery">${rows
    .map(
      (r) =>
        `<div class="gallery-row">${figure(r.query, `test: ${r.query.label}`, 'query')}${r.neighbours
          .map((n) =>
            figure(
              n,
              `${n.label} · ${n.similarity.toFixed(3)}`,
              n.label === r.query.label ? 'hit' : 'miss',
            ),
          )
          .join('')}</div>`,
    )
    .join('')}</div>`;
}
