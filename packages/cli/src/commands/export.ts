import { saveOnnx } from '@ebmjs/export';
import { choiceFlag, numberFlag, parseFlags, requirePath } from '../args.js';
import { loadRunEncoder } from '../run-dir.js';
import { CliUsageError } from '../usage-error.js';
import type { Command } from './command.js';

const OPTIONS = {
  out: { type: 'string' },
  opset: { type: 'string' },
  layout: { type: 'string' },
  normalize: { type: 'boolean', default: false },
  fp16: { type: 'boolean', default: false },
} as const;

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a trained encoder to ONNX',
  help: [
    'Usage: ebm export <run-dir|encoder-dir> --out model.onnx [options]',
    '',
    'Options:',
    '  --out <file>         where to write the model (written atomically)',
    '  --opset <n>          ONNX opset (default 17)',
    '  --layout <NHWC|NCHW> input layout (default NHWC, as tfjs)',
    '  --normalize          L2-normalise the output embeddings',
    '  --fp16               store weights as float16',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS, { positionals: 1 });
    const path = flags.positionals[0];
    const out = flags.string('out');
    if (path === undefined)
      throw new CliUsageError('missing run directory: ebm export <run-dir> --out model.onnx.');
    if (out === undefined) throw new CliUsageError('missing --out <file.onnx>.');
    const opset = numberFlag(flags.string('opset'), 'opset', { integer: true, min: 1 });
    const layout = choiceFlag(flags.string('layout'), 'layout', ['NHWC', 'NCHW'] as const);
    await requirePath(path, 'run or encoder directory', 'directory');
    const { encoder, info } = await loadRunEncoder(path);
    const bytes = await saveOnnx(encoder.model, out, {
      opset,
      layout,
      normalize: flags.bool('normalize'),
      float16: flags.bool('fp16'),
      recipe: info?.recipe,
      preprocessing: { scale: 1 / 255, mean: 0, std: 1 },
    });
    io.out(
      `wrote ${out} (${(bytes / 1024).toFixed(1)} KiB, embedding dim ${encoder.embeddingDim})`,
    );
    encoder.model.dispose();
    return 0;
  },
};
