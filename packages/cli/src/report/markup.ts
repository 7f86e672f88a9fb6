/** Ten distinguishable class colours (matplotlib's tab10), shared by every chart of the report. */
export const PALETTE = [
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

/** A class colour; beyond ten classes the palette repeats (CIFAR-100 gets 10 colours, not 100). */
export const classColour = (label: number): string => PALETTE[label % PALETTE.length]!;

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
