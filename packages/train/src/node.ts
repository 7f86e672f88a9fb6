// `@ebmjs/train/node`: the Node-only part of the package, everything that reads or writes local
// files (dataset loaders, checkpoint directories, metrics.jsonl, atomic writes). The main entry
// holds the rest and runs in browsers too; `#node-io` lets the loop use these files under Node.
export { loadFashionMnist } from './datasets/fashion-mnist.js';
export type { LoadOptions, Split } from './datasets/idx-source.js';
export { type ImageFolderOptions, imageFolder } from './datasets/image-folder.js';
export { loadMnist } from './datasets/mnist.js';
export { writeFileAtomic } from './io/write-file-atomic.js';
export { loadCheckpoint, saveCheckpoint } from './loop/checkpoint-files.js';
export { metricsLog, readMetrics } from './progress/metrics-log.js';
