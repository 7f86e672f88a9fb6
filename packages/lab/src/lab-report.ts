import type { OptimizerConfig } from '@ebmjs/train';
import type { RbmLabTable } from './rbm-lab.js';
import type { RbmSelection } from './rbm-select.js';
import type { ToyLabTable } from './toy-lab.js';

const f3 = (x: number) => x.toFixed(3);

/** The toy table as markdown: test NLL (nats) per dataset and method; ✗ = not below the Gaussian. */
export function toyTableMarkdown(table: ToyLabTable): string {
  const head = ['dataset', 'true density', 'Gaussian fit', ...table.methods.map((m) => m.title)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of table.rows) {
    const values = table.methods.map((m) => row.methods[m.name]?.nll);
    const best = Math.min(...values.filter((v): v is number => v !== undefined));
    const cells = table.methods.map((m) => {
      const r = row.methods[m.name];
      if (!r) return '—';
      const text = f3(r.nll) + (r.beatsGaussian ? '' : ' ✗');
      return r.nll === best ? `**${text}**` : text;
    });
    lines.push(
      `| ${row.title} | ${row.trueNll === null ? '—' : f3(row.trueNll)} | ${f3(row.gaussianNll)} | ${cells.join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** The method settings as a markdown list. */
export function toySettingsMarkdown(table: ToyLabTable): string {
  const lines = table.methods.map((m) => `- **${m.title}**: ${m.settings}`);
  const betas = table.rows
    .map((r) => {
      const s = r.methods.dae?.settings.match(/β = ([^ ]+)/);
      return s ? `${r.title} ${s[1]}` : undefined;
    })
    .filter((s) => s !== undefined);
  if (betas.length > 0) lines.push(`- fitted DAE β per dataset: ${betas.join(', ')}`);
  return lines.join('\n');
}

const optimizerName = (o: OptimizerConfig) =>
  `${o.name === 'sgd' ? `SGD momentum ${o.momentum ?? 0.9}` : o.name} at ${o.learningRate}`;

function optimizerList(rbm: RbmLabTable): string {
  return Object.entries(rbm.optimizers)
    .map(([m, o]) => `${m}: ${optimizerName(o!)}`)
    .join(', ');
}

export function rbmTableMarkdown(table: RbmLabTable): string {
  const lines = [
    '| method | test pseudo-log-likelihood (exact, nats/image) | scikit-learn score_samples (one-bit estimate) | reconstruction MSE/pixel | training s |',
    '|---|---|---|---|---|',
  ];
  for (const r of table.rows) {
    lines.push(
      `| ${r.title} | ${r.pseudoLogLikelihood.toFixed(2)} | ${r.sklearnScore.toFixed(2)} | ${r.reconstructionError.toFixed(4)} | ${r.seconds.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

/** The validation selection of the RBM optimizers: every candidate and its validation PLL. */
export function rbmSelectionMarkdown(selection: RbmSelection): string {
  const lines = [
    '| method | optimizer | validation pseudo-log-likelihood (exact, nats/image) | chosen |',
    '|---|---|---|---|',
  ];
  for (const r of selection.rows) {
    const chosen = selection.best[r.method] === r.optimizer ? '✓' : '';
    lines.push(
      `| ${r.method} | ${optimizerName(r.optimizer)} | ${r.validationPll.toFixed(2)} | ${chosen} |`,
    );
  }
  return lines.join('\n');
}

export interface LabMarkdownInput {
  toy?: ToyLabTable;
  rbm?: RbmLabTable;
  backend: string;
  command?: string;
}

/** table.md: both tables with their settings. */
export function labMarkdown({ toy, rbm, backend, command }: LabMarkdownInput): string {
  const parts: string[] = ['# EBM lab results', ''];
  if (command) parts.push(`Command: \`${command}\` (tfjs backend: ${backend})`, '');
  else parts.push(`tfjs backend: ${backend}`, '');
  if (toy) {
    parts.push(
      '## 2-D energies: test negative log-likelihood (nats, lower is better)',
      '',
      `Every method trains the same MLP energy (hidden ${toy.hiddenUnits.join('×')}, swish) for ${toy.steps} Adam steps ` +
        `(batch ${toy.batchSize}, learning rate ${toy.learningRate} with cosine decay) on ${toy.trainSize} points; ` +
        `exp(−E) is normalised on a ${toy.gridSize}×${toy.gridSize} grid over [${toy.box.lo}, ${toy.box.hi}]² ` +
        `and scored on ${toy.testSize} held-out points. The true density and the Gaussian fit are normalised on the same grid. ` +
        'Bold: best method; ✗: not better than the single fitted Gaussian.',
      '',
      toyTableMarkdown(toy),
      '',
      toySettingsMarkdown(toy),
      '',
    );
  }
  if (rbm) {
    parts.push(
      '## Binary RBM on binarised MNIST',
      '',
      `${rbm.numHidden} hidden units, ${rbm.steps} steps per method (batch ${rbm.batchSize}, cosine decay; ${optimizerList(rbm)}) ` +
        `on ${rbm.trainSize} training images binarised at ${rbm.threshold}; scored on ${rbm.testSize} test images. ` +
        'Pseudo-log-likelihood: Σ_j log p(v_j | v_−j) = Σ_j log σ(F(v̄ʲ) − F(v)), computed exactly; ' +
        "scikit-learn's BernoulliRBM.score_samples reports the one-bit stochastic estimate d·log σ(F(ṽ) − F(v)) of the same sum.",
      '',
      rbmTableMarkdown(rbm),
      '',
    );
    if (rbm.selection) {
      const sel = rbm.selection;
      parts.push(
        `Optimizers chosen on ${sel.validationSize} validation images held out of the training set ` +
          `(each candidate: ${sel.numHidden} hidden units, ${sel.steps} steps, batch ${sel.batchSize}, ` +
          `${sel.trainSize} of the remaining training images; no test image is used):`,
        '',
        rbmSelectionMarkdown(sel),
        '',
      );
    }
  }
  return parts.join('\n');
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Minimal markdown-table-to-HTML, enough for the tables above. */
function tableHtml(markdown: string): string {
  const rows = markdown
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|(-+\|)+$/.test(l.replace(/\s/g, '')));
  const cell = (s: string) => escapeHtml(s.trim()).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>');
  return `<table>${rows
    .map((line, i) => {
      const cells = line.split('|').slice(1, -1);
      const tag = i === 0 ? 'th' : 'td';
      return `<tr>${cells.map((c) => `<${tag}>${cell(c)}</${tag}>`).join('')}</tr>`;
    })
    .join('')}</table>`;
}

export interface LabHtmlInput extends LabMarkdownInput {
  /** PNG bytes to embed. */
  energiesPng?: Uint8Array;
  rbmSamplesPng?: Uint8Array;
}

/**
 * The report's sections (tables, settings, pictures inlined as data URLs), each with its title:
 * labHtml's page, and the content the CLI puts in the shared report template.
 */
export function labSections(input: LabHtmlInput): { title: string; html: string }[] {
  const img = (png: Uint8Array | undefined, alt: string) =>
    png
      ? `<img alt="${escapeHtml(alt)}" style="max-width:100%" src="data:image/png;base64,${Buffer.from(png).toString('base64')}"/>`
      : '';
  const sections: { title: string; html: string }[] = [];
  if (input.toy) {
    sections.push(
      {
        title: '2-D energies: test NLL (nats)',
        html:
          tableHtml(toyTableMarkdown(input.toy)) +
          `<ul>${toySettingsMarkdown(input.toy)
            .split('\n')
            .map(
              (l) =>
                `<li>${escapeHtml(l.replace(/^- /, '')).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>')}</li>`,
            )
            .join('')}</ul>`,
      },
      {
        title: 'Learned energy surfaces',
        html: `<p>Each panel shows exp(−E)/Z on the box, scaled to its maximum (viridis), with training points in white.</p>${img(input.energiesPng, 'energy surfaces')}`,
      },
    );
  }
  if (input.rbm) {
    sections.push(
      { title: 'RBM on binarised MNIST', html: tableHtml(rbmTableMarkdown(input.rbm)) },
      { title: 'Samples', html: img(input.rbmSamplesPng, 'RBM samples') },
    );
  }
  return sections;
}

/** A self-contained report.html: the tables, the settings and the pictures inlined as data URLs. */
export function labHtml(input: LabHtmlInput): string {
  const sections = labSections(input).map((s) => `<h2>${escapeHtml(s.title)}</h2>${s.html}`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>EBM lab</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1400px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body><h1>EBM lab</h1><p>${escapeHtml(input.command ? `Command: ${input.command} · ` : '')}tfjs backend: ${escapeHtml(input.backend)}</p>${sections.join('')}</body></html>
`;
}
