import type { EpochRecord, StepRecord } from '@ebmjs/train';
import { escapeHtml, PALETTE } from './markup.js';

export interface Series {
  name: string;
  /** [x, y] pairs in drawing order; non-finite y values are skipped. */
  points: readonly (readonly [number, number])[];
  /** 'line' joins the points; 'markers' draws a dot per point; 'both' does both. */
  style: 'line' | 'markers' | 'both';
}

const W = 460;
const H = 250;
const PAD = { l: 56, r: 14, t: 30, b: 36 };

/**
 * A line chart as inline SVG. `data-points` on the <svg> holds the number of points of the
 * first series (the one the chart is about: a test reads it to check one point per step).
 */
export function lineChart(
  title: string,
  xLabel: string,
  series: readonly Series[],
  { percent = false, id }: { percent?: boolean; id?: string } = {},
): string {
  const clean = series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const all = clean.flatMap((s) => s.points);
  if (all.length === 0) return '';
  // Loops, not Math.min(...xs): a long run has more step records than a call takes arguments.
  let [xlo, xhi, ylo, yhi] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [a, b] of all) {
    [xlo, xhi, ylo, yhi] = [Math.min(xlo, a), Math.max(xhi, a), Math.min(ylo, b), Math.max(yhi, b)];
  }
  if (xhi - xlo < 1e-12) [xlo, xhi] = [xlo - 1, xhi + 1];
  // One value (a single epoch): a band of ±10% around it, so the axis keeps its sign.
  if (yhi - ylo < 1e-12) {
    const pad = Math.abs(ylo) * 0.1 || 1;
    [ylo, yhi] = [ylo - pad, yhi + pad];
  }
  const x = (v: number) => PAD.l + ((v - xlo) / (xhi - xlo)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - ylo) / (yhi - ylo)) * (H - PAD.t - PAD.b);
  // Small values (learning rates) in exponent form, so the tick labels fit the margin.
  const fmt = (v: number) =>
    percent
      ? `${(v * 100).toFixed(1)}%`
      : v !== 0 && Math.abs(v) < 1e-2
        ? v.toExponential(2)
        : Number(v.toPrecision(3)).toString();
  const yTicks = [ylo, (ylo + yhi) / 2, yhi]
    .map(
      (v) =>
        `<text x="${PAD.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(v)}</text><line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`,
    )
    .join('');
  const xTicks = [xlo, (xlo + xhi) / 2, xhi]
    .map(
      (v) =>
        `<text x="${x(v).toFixed(1)}" y="${H - PAD.b + 14}" text-anchor="middle" font-size="11">${Number(v.toPrecision(4))}</text>`,
    )
    .join('');
  const drawn = clean
    .map((s, k) => {
      const colour = PALETTE[k % PALETTE.length];
      const xy = s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`);
      const line =
        s.style !== 'markers'
          ? `<polyline class="series" data-name="${escapeHtml(s.name)}" fill="none" stroke="${colour}" stroke-width="1.6" points="${xy.join(' ')}"/>`
          : '';
      const dots =
        s.style !== 'line'
          ? xy
              .map((p) => {
                const [cx, cy] = p.split(',');
                return `<circle cx="${cx}" cy="${cy}" r="3.5" fill="${colour}" stroke="#fff"/>`;
              })
              .join('')
          : '';
      const legend = `<text x="${W - PAD.r - 4}" y="${PAD.t + 14 * (k + 1)}" text-anchor="end" font-size="11" fill="${colour}">${escapeHtml(s.name)}</text>`;
      return line + dots + legend;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart"${id ? ` id="${id}"` : ''} data-points="${clean[0]?.points.length ?? 0}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}"><rect width="${W}" height="${H}" fill="#fff"/><text x="${W / 2}" y="17" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(title)}</text>${yTicks}${xTicks}<line x1="${PAD.l}" x2="${PAD.l}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#999"/><line x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}" stroke="#999"/><text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${escapeHtml(xLabel)}</text>${drawn}</svg>`;
}

/**
 * Where an epoch ends on the step axis: the last step record of that epoch, else (no step
 * records) the epoch count itself, so epoch-only logs still draw on an "epoch" axis.
 */
function epochX(steps: readonly StepRecord[]): (epoch: number) => number {
  const last = new Map<number, number>();
  for (const s of steps) last.set(s.epoch, Math.max(last.get(s.epoch) ?? 0, s.step));
  let [lastStep, lastEpoch] = [0, 0];
  for (const s of steps)
    [lastStep, lastEpoch] = [Math.max(lastStep, s.step), Math.max(lastEpoch, s.epoch)];
  const perEpoch = steps.length ? lastStep / (lastEpoch + 1) : 1;
  return (epoch) => last.get(epoch) ?? (epoch + 1) * perEpoch;
}

/**
 * The training curves of a run: loss per logged step with the epoch losses as markers, the
 * learning rate per step, and every monitor number the epoch records carry (kNN, linear probe,
 * ...) over the epochs.
 */
export function trainingCurves(
  history: readonly EpochRecord[],
  steps: readonly StepRecord[],
): string {
  const axis = steps.length ? 'optimizer step' : 'epoch';
  const atEpoch = epochX(steps);
  // Partial epoch records (a stopped run) cover fewer steps: drawn all the same, at their epoch.
  const epochs = history.map((r) => [atEpoch(r.epoch), r.loss] as const);
  const loss = lineChart(
    'training loss',
    axis,
    steps.length
      ? [
          { name: 'loss per step', points: steps.map((s) => [s.step, s.loss]), style: 'line' },
          { name: 'epoch mean', points: epochs, style: 'markers' },
        ]
      : [{ name: 'epoch mean', points: epochs, style: 'both' }],
    { id: 'loss-curve' },
  );
  const lr = lineChart(
    'learning rate',
    axis,
    [
      steps.length
        ? { name: 'lr', points: steps.map((s) => [s.step, s.learningRate]), style: 'line' }
        : {
            name: 'lr',
            points: history.map((r) => [atEpoch(r.epoch), r.learningRate]),
            style: 'both',
          },
    ],
    { id: 'lr-curve' },
  );
  // `step` is where the monitors measured (the x position on a step axis), not an accuracy.
  const names = [...new Set(history.flatMap((r) => Object.keys(r.metrics ?? {})))].filter(
    (name) => name !== 'step',
  );
  const monitorX = (r: EpochRecord): number =>
    steps.length && r.metrics?.['step'] !== undefined ? r.metrics['step'] : atEpoch(r.epoch);
  const monitors = names.length
    ? lineChart(
        'monitors (accuracy)',
        axis,
        names.map((name) => ({
          name,
          points: history
            .filter((r) => r.metrics?.[name] !== undefined)
            .map((r) => [monitorX(r), r.metrics![name]!] as const),
          style: 'both' as const,
        })),
        { percent: true, id: 'monitor-curve' },
      )
    : '';
  return [loss, lr, monitors].filter(Boolean).join('');
}
