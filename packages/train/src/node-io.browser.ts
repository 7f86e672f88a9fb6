// `#node-io` outside Node (browsers, workers): no file system, so nothing here reaches node:fs.
// The loop refuses `runDir` up front (filesAvailable); the functions are typed against the Node
// variant so both stay in step, and throw if reached anyway.
import { EbmError } from '@ebmjs/contract';
import type * as NodeIo from './node-io.node.js';

const unsupported = (path: string): never => {
  throw new EbmError(
    'UNSUPPORTED',
    `runDir (checkpoints, metrics.jsonl) needs Node's file system; outside Node leave runDir unset and keep the result's history, received the path "${path}".`,
    { path },
  );
};

export const filesAvailable: typeof NodeIo.filesAvailable = false;
export const loadCheckpoint: typeof NodeIo.loadCheckpoint = async (dir) => unsupported(dir);
export const saveCheckpoint: typeof NodeIo.saveCheckpoint = async (dir) => unsupported(dir);
export const appendMetrics: typeof NodeIo.appendMetrics = async (path) => unsupported(path);
export const rewriteMetrics: typeof NodeIo.rewriteMetrics = async (path) => unsupported(path);
export const resumeMetrics: typeof NodeIo.resumeMetrics = async (path) => unsupported(path);
export const loadOnnxRuntime: typeof NodeIo.loadOnnxRuntime = async () => {
  throw new EbmError(
    'UNSUPPORTED',
    "engine 'onnxruntime' outside Node needs the runtime passed in: onnxruntime: { runtime: ort } with ort from onnxruntime-web, received none.",
  );
};
export const defaultOnnxRuntimeThreads: typeof NodeIo.defaultOnnxRuntimeThreads = () => 1;
