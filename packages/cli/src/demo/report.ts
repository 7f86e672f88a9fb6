import { writeFileAtomic } from '@ebmjs/contract/node';
import type { EpochRecord } from '@ebmjs/train';

export interface ReportInput {
  title: string;
  history: readonly EpochRecord[];
  /** Key results shown as a table (accuracies as fractions are shown in %). */
  summary?: Record<string, number | string>;
  /** A 2-D projection of test embeddings: points [n × 2], one label per point. */
  scatter?: {
    points: Float32Array;
    labels: Int32Array;
    classNames: readonly string[];
    caption: string;
  };
}

const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A line chart of one or more series over epochs, as inline SVG. */
function lineChart(
  title: string,
  series: { name: string; values: (number | undefined)[] }[],
  percent = false,
): string {
  const w = 420;
  const h = 240;
  const pad = { l: 52, r: 12, t: 28, b: 34 };
  const all = series.flatMap((s) =>
    s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)),
  );
  if (all.length === 0) return '';
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const n = Math.max(...series.map((s) => s.values.length));
  const x = (i: number) =>
    pad.l + (n <= 1 ? (w - pad.l - pad.r) / 2 : (i / (n - 1)) * (w - pad.l - pad.r));
  const y = (v: number) => pad.t + (1 - (v - lo) / (hi - lo)) * (h - pad.t - pad.b);
  const fmt = (v: number) => (percent ? `${(v * 100).toFixed(1)}%` : v.toPrecision(3));
  const ticks = [lo, (lo + hi) / 2, hi]
    .map(
      (v) =>
        `<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${fmt(v)}</text><line x1="${pad.l}" x2="${w - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
    )
    .join('');
  const lines = series
    .map((s, k) => {
      const pts = s.values
        .map((v, i) => (v === undefined ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
        .filter((p) => p !== null);
      const colour = PALETTE[k % PALETTE.length];
      return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.join(' ')}"/>${pts
        .map(
          (p) =>
            `<circle cx="${p!.split(',')[0]}" cy="${p!.split(',')[1]}" r="3" fill="${colour}"/>`,
        )
        .join(
          '',
        )}<text x="${w - pad.r - 4}" y="${pad.t + 14 * (k + 1)}" text-anchor="end" font-size="11" fill="${colour}">${escapeHtml(s.name)}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img"><text x="${w / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(title)}</text>${ticks}<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${h - pad.b}" stroke="#999"/><text x="${w / 2}" y="${h - 8}" text-anchor="middle" font-size="11">epoch</text>${lines}</svg>`;
}

/** A scatter plot of 2-D points coloured by class, with a legend, as inline SVG. */
export function scatterPlot(
  points: Float32Array,
  labels: Int32Array,
  classNames: readonly string[],
  caption: string,
): string {
  const size = 460;
  const pad = 20;
  const n = labels.length;
  let [xlo, xhi, ylo, yhi] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    xlo = Math.min(xlo, points[2 * i]!);
    xhi = Math.max(xhi, points[2 * i]!);
    ylo = Math.min(ylo, points[2 * i + 1]!);
    yhi = Math.max(yhi, points[2 * i + 1]!);
  }
  const sx = (v: number) => pad + ((v - xlo) / (xhi - xlo || 1)) * (size - 2 * pad);
  const sy = (v: number) => size - pad - ((v - ylo) / (yhi - ylo || 1)) * (size - 2 * pad);
  const dots: string[] = [];
  for (let i = 0; i < n; i++) {
    dots.push(
      `<circle cx="${sx(points[2 * i]!).toFixed(1)}" cy="${sy(points[2 * i + 1]!).toFixed(1)}" r="2.2" fill="${PALETTE[labels[i]! % PALETTE.length]}" fill-opacity="0.7"/>`,
    );
  }
  const legend = classNames
    .map(
      (c, k) =>
        `<g transform="translate(${size + 10},${24 + 16 * k})"><rect width="10" height="10" fill="${PALETTE[k % PALETTE.length]}"/><text x="16" y="9" font-size="11">${escapeHtml(c)}</text></g>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size + 120}" height="${size}" role="img"><rect x="0" y="0" width="${size}" height="${size}" fill="#fafafa" stroke="#ddd"/>${dots.join('')}${legend}<text x="${size / 2}" y="14" text-anchor="middle" font-size="12">${escapeHtml(caption)}</text></svg>`;
}

/** A self-contained HTML report: summary table, loss and accuracy curves, embedding projection. */
export function renderReport(input: ReportInput): string {
  const { title, history, summary = {}, scatter } = input;
  const loss = lineChart('training loss', [{ name: 'loss', values: history.map((r) => r.loss) }]);
  const metricNames = [...new Set(history.flatMap((r) => Object.keys(r.metrics ?? {})))];
  const accuracy = metricNames.length
    ? lineChart(
        'evaluation',
        metricNames.map((name) => ({ name, values: history.map((r) => r.metrics?.[name]) })),
        true,
      )
    : '';
  const rows = Object.entries(summary)
    .map(
      ([k, v]) =>
        `<tr><th>${escapeHtml(k)}</th><td>${typeof v === 'number' && k.toLowerCase().includes('acc') ? `${(v * 100).toFixed(2)}%` : escapeHtml(String(v))}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ddd;padding:4px 10px;text-align:left}th{background:#f5f5f5}.charts{display:flex;flex-wrap:wrap;gap:16px}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<table>${rows}</table>
<div class="charts">${loss}${accuracy}</div>
${scatter ? `<h2 style="font-size:16px">Test embeddings</h2>${scatterPlot(scatter.points, scatter.labels, scatter.classNames, scatter.caption)}` : ''}
</body></html>
`;
}

/** Writes the report atomically (see writeFileAtomic). */
export async function writeReport(path: string, input: ReportInput): Promise<void> {
  await writeFileAtomic(path, renderReport(input));
}
