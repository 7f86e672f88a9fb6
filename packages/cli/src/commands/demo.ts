import type { Command } from './command.js';

export const demo: Command = {
  name: 'demo',
  summary: 'train SimCLR on MNIST, evaluate, export to ONNX and serve it with onnxruntime-node',
  help: [
    'Usage: ebm demo',
    '',
    'The end-to-end demo: trains a ConvNet with SimCLR on MNIST on the best tfjs backend,',
    'evaluates it (kNN, linear probe), exports it to ONNX and embeds the test set with',
    'onnxruntime-node.',
  ].join('\n'),
  async run(_args, io) {
    io.out(
      'ebm demo will: (1) train a ConvNet with SimCLR on MNIST, (2) evaluate it with kNN and a',
    );
    io.out(
      'linear probe, (3) export it to ONNX, (4) embed the MNIST test set with onnxruntime-node.',
    );
    io.out('The training recipes and the exporter are not in this build yet: nothing was run.');
    return 0;
  },
};
