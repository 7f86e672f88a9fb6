import type { experimental } from '@ebmjs/export';

/**
 * What runs a recipe's training step. 'tfjs': tfjs computes the loss and its gradients on the
 * current tfjs backend and the tfjs optimizer updates the weights. 'onnxruntime': the whole step
 * (forward in training mode, loss, gradients, optimizer) is compiled to one ONNX graph and runs
 * as one `session.run` on ONNX Runtime's native kernels; anything the compiler cannot take is an
 * `UNSUPPORTED` EbmError naming it. 'auto': onnxruntime when every part of the step compiles and a
 * runtime loads, otherwise tfjs, with the reason in the run's `engineNote`.
 */
export type TrainingEngineName = 'tfjs' | 'onnxruntime' | 'auto';

/** Settings of the onnxruntime engine. */
export interface OnnxRuntimeEngineOptions {
  /** ORT's intra-op threads. Default: every core Node reports (1 outside Node). */
  threads?: number;
  /**
   * The ONNX Runtime module to run the step on. Default in Node: `onnxruntime-node` (an
   * optional peer dependency). Browsers must pass one: `import * as ort from 'onnxruntime-web'`.
   */
  runtime?: experimental.OrtLike;
}
