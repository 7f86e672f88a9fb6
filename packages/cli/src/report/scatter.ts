import { classColour, escapeHtml } from './markup.js';

/**
 * A scatter plot of 2-D points [n × 2] coloured by class, with a legend, as inline SVG;
 * `data-points` holds n.
 */
export function scatterPlot(
  points: Float32Array,
  labels: Int32Array,
  classNames: readonly string[],
  caption: string,
): string {
  const size = 420;
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
      `<circle cx="${sx(points[2 * i]!).toFixed(1)}" cy="${sy(points[2 * i + 1]!).toFixed(1)}" r="2.2" fill="${classColour(labels[i]!)}" fill-opacity="0.7"/>`,
    );
  }
  // Past 20 classes the legend would not fit: colours repeat anyway (see classColour).
  const legend = classNames
    .slice(0, 20)
    .map(
      (c, k) =>
        `<g transform="translate(${size + 10},${24 + 16 * k})"><rect width="10" height="10" fill="${classColour(k)}"/><text x="16" y="9" font-size="11">${escapeHtml(c)}</text></g>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" class="scatter" data-points="${n}" width="${size + 110}" height="${size}" role="img" aria-label="${escapeHtml(caption)}"><rect x="0" y="0" width="${size + 110}" height="${size}" fill="#fff"/><rect x="0" y="0" width="${size}" height="${size}" fill="#fafafa" stroke="#ddd"/>${dots.join('')}${legend}<text x="${size / 2}" y="14" text-anchor="middle" font-size="12">${escapeHtml(caption)}</text></svg>`;
}
