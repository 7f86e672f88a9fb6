import { writeFileAtomic } from '@ebmjs/contract/node';
import type { EpochRecord, StepRecord } from '@ebmjs/train';
import { trainingCurves } from './curves.js';
import { type GalleryRow, galleryHtml } from './gallery.js';
import { escapeHtml } from './markup.js';
import { scatterPlot } from './scatter.js';
import { type ViewPair, viewsHtml } from './views.js';

/** 2-D projections of the same embeddings, one label per point. */
export interface Projections {
  labels: Int32Array;
  classNames: readonly string[];
  /** What was projected, e.g. "2,000 test embeddings of the trained encoder". */
  what: string;
  pca?: Float32Array;
  umap?: Float32Array;
}

/** Everything report.html can show; every part is optional and drawn only when given. */
export interface ReportInput {
  title: string;
  /** A line under the title, e.g. "running: epoch 2 of 5 done; reload to update". */
  status?: string;
  /** Key results as a table (numbers under a key containing "acc" are shown in %). */
  summary?: Record<string, number | string>;
  /** The run's settings and backend (nested objects are flattened to dotted keys). */
  settings?: Record<string, unknown>;
  /** metrics.jsonl's epoch records and step records. */
  history?: readonly EpochRecord[];
  steps?: readonly StepRecord[];
  projections?: Projections;
  gallery?: readonly GalleryRow[];
  views?: readonly ViewPair[];
  /** Extra sections with their own HTML (the lab's tables and pictures). */
  sections?: readonly { title: string; html: string }[];
}

/** { optimizer: { name: 'adam' } } → { 'optimizer.name': 'adam' }; undefined values go. */
export function flattenSettings(
  settings: Record<string, unknown>,
  prefix = '',
): [string, string][] {
  return Object.entries(settings).flatMap(([key, value]): [string, string][] => {
    const name = prefix + key;
    if (value === undefined || value === null || typeof value === 'function') return [];
    if (typeof value === 'object' && !Array.isArray(value))
      return flattenSettings(value as Record<string, unknown>, `${name}.`);
    return [[name, Array.isArray(value) ? JSON.stringify(value) : String(value)]];
  });
}

function table(rows: readonly [string, string][]): string {
  return rows.length
    ? `<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`
    : '';
}

const summaryValue = (key: string, value: number | string) =>
  typeof value === 'number' && key.toLowerCase().includes('acc')
    ? `${(value * 100).toFixed(2)}%`
    : String(value);

const section = (title: string, body: string, id: string) =>
  body ? `<section id="${id}"><h2>${escapeHtml(title)}</h2>${body}</section>` : '';

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1500px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}.status{color:#555}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 9px;text-align:left;font-size:13px}th{background:#f5f5f5;font-weight:600}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.thumb{width:56px;height:56px;image-rendering:pixelated;border:1px solid #ccc;background:#000}
figure{margin:0;text-align:center;font-size:11px}figcaption{margin-top:2px}
.gallery-row{display:flex;gap:8px;margin:6px 0}.gallery-row .query{margin-right:14px}
.gallery-row .hit figcaption{color:#2a7a2a}.gallery-row .miss figcaption{color:#b22}
.views{display:grid;grid-template-columns:repeat(4,max-content);gap:12px 22px}.view-pair img{margin:0 2px}`;

/** A self-contained report.html (inline SVG and data: URLs; no script, nothing fetched). */
export function renderReport(input: ReportInput): string {
  const { title, summary = {}, settings = {}, projections: p } = input;
  const curves = trainingCurves(input.history ?? [], input.steps ?? []);
  const scatters = p
    ? [
        p.umap ? scatterPlot(p.umap, p.labels, p.classNames, `UMAP of ${p.what}`) : '',
        p.pca ? scatterPlot(p.pca, p.labels, p.classNames, `PCA of ${p.what}`) : '',
      ].join('')
    : '';
  const results = table(Object.entries(summary).map(([k, v]) => [k, summaryValue(k, v)]));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${input.status ? `<p class="status">${escapeHtml(input.status)}</p>` : ''}
${section('Results', results, 'results')}
${section('Training', curves ? `<div class="row">${curves}</div>` : '', 'training')}
${section('Embeddings', scatters ? `<div class="row">${scatters}</div>` : '', 'embeddings')}
${section('Nearest training images (cosine similarity)', galleryHtml(input.gallery ?? []), 'gallery')}
${section('Augmented views', viewsHtml(input.views ?? []), 'views')}
${(input.sections ?? []).map((s, i) => section(s.title, s.html, `extra-${i}`)).join('\n')}
${section('Settings', table(flattenSettings(settings)), 'settings')}
</body></html>
`;
}

/** Writes the report atomically (see writeFileAtomic): a reload never sees half a file. */
export async function writeReport(path: string, input: ReportInput): Promise<void> {
  await writeFileAtomic(path, renderReport(input));
}
