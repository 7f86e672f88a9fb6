// `#node-io` in Node: the training loop's files (checkpoint directory, metrics.jsonl) under runDir,
// and the onnxruntime engine's native runtime.
export { defaultOnnxRuntimeThreads, loadOnnxRuntime } from './engine/onnxruntime-node.js';
export { loadCheckpoint, saveCheckpoint } from './loop/checkpoint-files.js';
export { appendMetrics, resumeMetrics, rewriteMetrics } from './progress/metrics-log.js';

/** Whether `runDir` (files on a local file system) can be used in this runtime. */
export const filesAvailable: boolean = true;
