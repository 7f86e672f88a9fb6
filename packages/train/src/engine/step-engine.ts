import { experimental } from '@ebmjs/export';
import type { CompileContext, CompiledStep } from './compiled-step.js';
import { readTfjsState, type SlotNames, writeTfjsState } from './graph-state.js';

/**
 * Opens a compiled step graph on the context's runtime, starting from the live tfjs state
 * (weights, statistics, optimizer slots, resumed step count); `sync` writes the graph's state
 * back into the tfjs models and optimizer.
 */
export async function openStepEngine(
  graph: experimental.StepGraph,
  ctx: CompileContext,
  slots: SlotNames,
): Promise<{ engine: experimental.OrtTrainingEngine } & Pick<CompiledStep, 'sync' | 'release'>> {
  await readTfjsState(graph.state, ctx.optimizer, slots);
  const engine = await experimental.OrtTrainingEngine.create(ctx.runtime, graph, {
    threads: ctx.threads,
    startStep: ctx.startStep,
  });
  return {
    engine,
    sync: () =>
      writeTfjsState(
        graph.state,
        (input) => engine.value(input),
        ctx.optimizer,
        ctx.trainable,
        slots,
        engine.stepCount,
      ),
    release: () => engine.release(),
  };
}
