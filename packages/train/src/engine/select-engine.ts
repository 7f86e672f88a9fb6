import { EbmError, isEbmError, validate } from '@ebmjs/core';
import type * as tf from '@tensorflow/tfjs-core';
import { defaultOnnxRuntimeThreads, loadOnnxRuntime } from '#node-io';
import type { OptimizerConfig } from '../optim/create-optimizer.js';
import type { CompileContext, CompiledStep } from './compiled-step.js';
import type { OnnxRuntimeEngineOptions, TrainingEngineName } from './engine-config.js';

const ENGINES: readonly TrainingEngineName[] = ['tfjs', 'onnxruntime', 'auto'];

export interface EngineChoice {
  engine: 'tfjs' | 'onnxruntime';
  /** Set when the onnxruntime engine was compiled; runs every step. */
  compiled?: CompiledStep;
  /** Why 'auto' fell back to tfjs. */
  note?: string;
}

/**
 * Resolves a run's engine: 'tfjs' as is; 'onnxruntime' compiles the recipe's step or throws the
 * UNSUPPORTED EbmError naming what does not compile; 'auto' tries onnxruntime and falls back
 * to tfjs on any failure, keeping the reason as the note.
 */
export async function selectEngine(args: {
  recipe: string;
  engine: TrainingEngineName | undefined;
  options: OnnxRuntimeEngineOptions | undefined;
  compile: ((ctx: CompileContext) => Promise<CompiledStep>) | undefined;
  /** The optimizer config, or undefined when the caller passed a ready tf.Optimizer. */
  optimizerConfig: OptimizerConfig | undefined;
  optimizer: tf.Optimizer;
  trainable: readonly tf.Variable[];
  batchSize: number;
  startStep: number;
}): Promise<EngineChoice> {
  const choice = args.engine ?? 'tfjs';
  if (!ENGINES.includes(choice))
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${args.recipe}: engine must be one of ${ENGINES.join(', ')}, received ${JSON.stringify(choice)}.`,
    );
  if (choice === 'tfjs') return { engine: 'tfjs' };
  try {
    if (args.compile === undefined)
      throw new EbmError(
        'UNSUPPORTED',
        `${args.recipe}: engine 'onnxruntime' has no compiled step for this recipe; use engine 'tfjs'.`,
      );
    if (args.optimizerConfig === undefined)
      throw new EbmError(
        'UNSUPPORTED',
        `${args.recipe}: engine 'onnxruntime' compiles the optimizer from an OptimizerConfig ({ name, learningRate, ... }), received a ready tf.Optimizer.`,
      );
    const threads = args.options?.threads ?? defaultOnnxRuntimeThreads();
    validate.assertNumber(threads, `${args.recipe}: onnxruntime.threads`, {
      min: 1,
      integer: true,
    });
    const runtime = args.options?.runtime ?? (await loadOnnxRuntime());
    const compiled = await args.compile({
      recipe: args.recipe,
      batchSize: args.batchSize,
      optimizer: args.optimizer,
      optimizerConfig: args.optimizerConfig,
      trainable: args.trainable,
      startStep: args.startStep,
      runtime,
      threads,
    });
    return { engine: 'onnxruntime', compiled };
  } catch (error) {
    if (choice === 'onnxruntime') {
      if (isEbmError(error)) throw error;
      throw new EbmError(
        'UNSUPPORTED',
        `${args.recipe}: engine 'onnxruntime' could not start: ${(error as Error).message.split('\n')[0]}`,
      );
    }
    const reason = (error as Error).message.split('\n')[0];
    return { engine: 'tfjs', note: `engine auto chose tfjs: ${reason}` };
  }
}
