// The onnxruntime engine's runtime in Node, reached through `#node-io`: onnxruntime-node is an
// optional peer dependency, so it is imported only when a run asks for the engine.
import { availableParallelism } from 'node:os';
import { EbmError } from '@ebmjs/core';
import type { experimental } from '@ebmjs/export';

/** onnxruntime-node, or an UNSUPPORTED EbmError saying how to install it. */
export async function loadOnnxRuntime(): Promise<experimental.OrtLike> {
  try {
    const ort = (await import('onnxruntime-node')) as unknown as experimental.OrtLike & {
      default?: experimental.OrtLike;
    };
    return ort.InferenceSession ? ort : ort.default!;
  } catch (error) {
    throw new EbmError(
      'UNSUPPORTED',
      `engine 'onnxruntime' needs the onnxruntime-node package (npm install onnxruntime-node); it did not load: ${(error as Error).message.split('\n')[0]}`,
    );
  }
}

/** ORT's default intra-op threads in Node: every core. */
export function defaultOnnxRuntimeThreads(): number {
  return availableParallelism();
}
