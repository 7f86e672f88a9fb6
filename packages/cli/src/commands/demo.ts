import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from '@ebmjs/backends';
import { saveOnnx } from '@ebmjs/export';
import { convEncoder, saveModel } from '@ebmjs/models';
import {
  type ImageDataset,
  imageBatch,
  knnEvaluate,
  knnMonitor,
  linearProbe,
  loadMnist,
  progressBar,
  take,
  trainingMonitors,
  trainSimCLR,
} from '@ebmjs/train';
import * as tf from '@tensorflow/tfjs-core';
import { numberFlag, parseFlags } from '../args.js';
import { computesOn } from '../backend-line.js';
import { embedWithOnnx } from '../onnx-embed.js';
import { reportCallbacks } from '../report/callback.js';
import { embeddingParts, readRunLog, tfjsEmbed } from '../report/collect.js';
import { writeReport } from '../report/html.js';
import { recipeAugmentation } from '../report/views.js';
import type { Command } from './command.js';

const OPTIONS = {
  budget: { type: 'string' },
  out: { type: 'string' },
  'train-limit': { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'eval-train': { type: 'string' },
} as const;

/** Share of the budget that goes to training; the rest exports, embeds and fits the probes. */
const TRAIN_SHARE = 0.65;
/** Training images the kNN bank and the linear probe use in the demo (`ebm eval` uses all). */
const EVAL_TRAIN = 20000;

export const demo: Command = {
  name: 'demo',
  summary:
    'train SimCLR on MNIST, evaluate, export to ONNX and serve it with @ebmjs/web-infer on onnxruntime-node',
  help: [
    'Usage: ebm demo [--budget 600] [--out runs/demo] [--epochs 3] [--batch-size 256] [--train-limit n] [--eval-train 20000]',
    '',
    'The end-to-end demo: trains the default ConvNet with SimCLR on MNIST on the best tfjs',
    `backend within ${Math.round(TRAIN_SHARE * 100)}% of the time budget (seconds), exports it to ONNX, embeds the`,
    'train and test sets with @ebmjs/web-infer (onnxruntime-node), and compares kNN and linear-probe accuracy of raw',
    'pixels, the same ConvNet at random initialisation and the trained one. To fit the budget on',
    `a CPU, the kNN bank and the probe's training set are ${EVAL_TRAIN} training images (--eval-train);`,
    'the test set is all 10,000.',
    'Writes <out>/metrics.jsonl, <out>/encoder.onnx, <out>/report.html.',
  ].join('\n'),
  async run(args, io) {
    const flags = parseFlags(args, OPTIONS);
    const budget = numberFlag(flags.string('budget'), 'budget', { min: 30 }) ?? 600;
    const epochs = numberFlag(flags.string('epochs'), 'epochs', { integer: true, min: 1 }) ?? 3;
    const batchSize =
      numberFlag(flags.string('batch-size'), 'batch-size', { integer: true, min: 2 }) ?? 256;
    const out = flags.string('out') ?? join('runs', 'demo');
    const limit = numberFlag(flags.string('train-limit'), 'train-limit', {
      integer: true,
      min: 512,
    });
    const evalCount =
      numberFlag(flags.string('eval-train'), 'eval-train', { integer: true, min: 100 }) ??
      EVAL_TRAIN;
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const log = (line: string) => io.out(`[${elapsed().toFixed(0).padStart(4)} s] ${line}`);
    await mkdir(out, { recursive: true });

    const backend = await selectBackend();
    log(
      `backend ${backend.candidate} (${computesOn(backend)}), conv training ${backend.canTrainConv ? 'supported' : 'NOT supported'}`,
    );
    for (const note of backend.notes) log(`  note: ${note}`);

    const trainSet = limit
      ? take(await loadMnist({ split: 'train' }), limit, 0)
      : await loadMnist({ split: 'train' });
    const testSet = await loadMnist({ split: 'test' });
    const evalSet = take(trainSet, evalCount, 1);
    log(`MNIST: ${trainSet.labels.length} training and ${testSet.labels.length} test images`);

    // 1. Train.
    const randomInit = convEncoder({ inputShape: [28, 28, 1], seed: 0 });
    const encoder = convEncoder({ inputShape: [28, 28, 1], seed: 0 });
    log(
      `training SimCLR (ConvNet ${encoder.model.countParams()} parameters, batch ${batchSize}, Adam 1e-3, τ 0.5) for up to ${epochs} epochs / ${(budget * TRAIN_SHARE).toFixed(0)} s`,
    );
    const settings = {
      recipe: 'simclr',
      dataset: 'mnist',
      'training images': trainSet.labels.length,
      encoder: `ConvNet, ${encoder.model.countParams()} parameters`,
      epochs,
      batchSize,
      optimizer: { name: 'adam', learningRate: 1e-3 },
      temperature: 0.5,
      timeBudgetSeconds: budget * TRAIN_SHARE,
      backend: backend.backend,
      'backend candidate': backend.candidate,
      'computes on': computesOn(backend),
      engine: 'auto',
    };
    const reportFile = join(out, 'report.html');
    const report = {
      title: 'ebm.js demo: SimCLR on MNIST',
      train: trainSet,
      test: testSet,
      augmentation: recipeAugmentation('simclr', trainSet.imageShape),
      settings,
    };
    // A kNN monitor after every epoch (2,000-image bank, 1,000 test images: seconds, not minutes),
    // so the report shows accuracy moving during training.
    const monitors = trainingMonitors(encoder, [
      knnMonitor({ bank: take(trainSet, 2000, 2), test: take(testSet, 1000, 0) }),
    ]);
    const trained = await trainSimCLR({
      dataset: trainSet,
      encoder,
      evaluate: monitors.evaluate,
      epochs,
      batchSize,
      optimizer: { name: 'adam', learningRate: 1e-3 },
      temperature: 0.5,
      timeBudgetSeconds: budget * TRAIN_SHARE,
      // The fastest engine available: the step compiled to one ONNX graph on onnxruntime-node's
      // native kernels when it compiles, else tfjs on the backend above.
      engine: 'auto',
      runDir: out,
      // report.html after every epoch, so reloading it shows the run as it goes.
      callbacks: [
        {
          onStart: (event) => {
            settings.engine = event.engine;
            log(`engine ${event.engine}${event.engineNote ? ` (${event.engineNote})` : ''}`);
          },
        },
        monitors.callbacks,
        progressBar(),
        reportCallbacks({
          ...report,
          path: reportFile,
          runDir: out,
          epochs,
          embed: tfjsEmbed(encoder.model),
          // A smaller gallery bank while training: the report should not eat the budget.
          bankCount: 2000,
          onError: (error) => log(`  note: report.html not updated: ${String(error)}`),
        }),
      ],
    }).finally(() => monitors.dispose());
    log(
      `trained ${trained.steps} steps (${trained.stopReason}), final epoch loss ${trained.history.at(-1)?.loss.toFixed(4)}`,
    );
    await saveModel(encoder.model, join(out, 'encoder'));

    // 2. Export both ConvNets to ONNX; 3. serve them with @ebmjs/web-infer (onnxruntime-node).
    const onnxPath = join(out, 'encoder.onnx');
    const randomPath = join(out, 'random-init.onnx');
    const preprocessing = { scale: 1 / 255, mean: 0, std: 1 };
    await saveOnnx(encoder.model, onnxPath, { recipe: 'simclr', preprocessing });
    await saveOnnx(randomInit.model, randomPath, { recipe: 'random-init', preprocessing });
    log(`exported ${onnxPath}`);
    const parity = onnxParity(encoder.model, testSet);
    const served = await embedWithOnnx(onnxPath, testSet);
    const maxDiff = await parity(served.embeddings, served.dim);
    log(
      `@ebmjs/web-infer (onnxruntime-node) embedded the ${testSet.labels.length} test images in ${served.seconds.toFixed(1)} s (${(testSet.labels.length / served.seconds).toFixed(0)} img/s); max |ONNX − tfjs| = ${maxDiff.toExponential(2)}`,
    );

    // 4. Evaluate raw pixels, the random-init ConvNet and the trained one on the same protocol.
    const rows: { name: string; knn: number; linear: number }[] = [];
    const evaluate = async (name: string, trainEmb: tf.Tensor2D, testEmb: tf.Tensor2D) => {
      const a = { embeddings: trainEmb, labels: evalSet.labels };
      const b = { embeddings: testEmb, labels: testSet.labels };
      const knn = knnEvaluate(a, b, { k: 200, temperature: 0.1, numClasses: 10 }).accuracy;
      const linear = linearProbe(a, b, { numClasses: 10, epochs: 15 }).accuracy;
      rows.push({ name, knn, linear });
      log(
        `${name.padEnd(22)} kNN ${(knn * 100).toFixed(2)}%   linear probe ${(linear * 100).toFixed(2)}%`,
      );
      tf.dispose([trainEmb, testEmb]);
    };
    log(
      `evaluating on ${evalSet.labels.length} training images (kNN bank, probe fit) and the ${testSet.labels.length} test images`,
    );
    await evaluate('raw pixels', flatPixels(evalSet), flatPixels(testSet));
    for (const [name, path] of [
      ['ConvNet, random init', randomPath],
      ['ConvNet, SimCLR', onnxPath],
    ] as const) {
      const tr = await embedWithOnnx(path, evalSet);
      const te = path === onnxPath ? served : await embedWithOnnx(path, testSet);
      await evaluate(
        name,
        tf.tensor2d(tr.embeddings, [evalSet.labels.length, tr.dim]),
        tf.tensor2d(te.embeddings, [testSet.labels.length, te.dim]),
      );
    }

    // 5. Report: the curves, and the pictures from the exported encoder on ONNX Runtime.
    await writeReport(reportFile, {
      title: report.title,
      status: `finished: ${trained.steps} steps (${trained.stopReason}) in ${Math.round(elapsed())} s`,
      settings,
      ...(await readRunLog(out)),
      ...(await embeddingParts({ ...report, embed: (ds) => embedWithOnnx(onnxPath, ds) })),
      summary: {
        backend: backend.backend,
        engine: trained.engine,
        'training steps': trained.steps,
        'max |ONNX − tfjs|': maxDiff.toExponential(2),
        ...Object.fromEntries(
          rows.flatMap((r) => [
            [`${r.name}: kNN accuracy`, r.knn],
            [`${r.name}: linear-probe accuracy`, r.linear],
          ]),
        ),
        'wall time (s)': Math.round(elapsed()),
      },
    });
    const [raw, random, simclr] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    log(`report: ${reportFile}`);
    log(
      `trained vs baselines: linear probe ${simclr.linear > Math.max(raw.linear, random.linear) ? 'beats' : 'does NOT beat'} both; ` +
        `kNN ${simclr.knn > random.knn ? 'beats' : 'does NOT beat'} the random-init ConvNet`,
    );
    randomInit.model.dispose();
    encoder.model.dispose();
    trained.head.model.dispose();
    return 0;
  },
};

function flatPixels(ds: ImageDataset): tf.Tensor2D {
  return tf.tidy(() => {
    const n = ds.labels.length;
    return tf.div(
      tf.tensor2d(Float32Array.from(ds.pixels), [n, ds.pixels.length / n]),
      255,
    ) as tf.Tensor2D;
  });
}

/** tfjs embeddings of the first 256 test images, compared with the ONNX ones. */
function onnxParity(model: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] }, ds: ImageDataset) {
  const count = Math.min(256, ds.labels.length);
  const reference = tf.tidy(
    () =>
      model.predict(
        imageBatch(
          ds,
          Int32Array.from({ length: count }, (_, i) => i),
        ),
      ) as tf.Tensor,
  );
  return async (onnx: Float32Array, dim: number) => {
    const ref = await reference.data();
    reference.dispose();
    let max = 0;
    for (let i = 0; i < count * dim; i++) max = Math.max(max, Math.abs(ref[i]! - onnx[i]!));
    return max;
  };
}
