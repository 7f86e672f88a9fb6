// `@ebmjs/train/node`: the Node-only part of the package, everything that reads or writes local
// files (dataset loaders, checkpoint directories, metrics.jsonl, atomic writes). The main entry
// holds the rest and runs in browsers too; `#node-io` lets the loop use these files under Node.
export type { ArchiveLoadOptions } from './datasets/archive-source.js';
export {
  type Cifar10Options,
  type Cifar100Options,
  loadCifar10,
  loadCifar100,
} from './datasets/cifar.js';
export { loadFashionMnist } from './datasets/fashion-mnist.js';
export type { LoadOptions, Split } from './datasets/idx-source.js';
export { type ImageFolderOptions, imageFolder } from './datasets/image-folder.js';
export { loadMnist } from './datasets/mnist.js';
export { loadStl10, type Stl10Options, type Stl10Split } from './datasets/stl10.js';
export { writeFileAtomic } from './io/write-file-atomic.js';
export { loadCheckpoint, saveCheckpoint } from './loop/checkpoint-files.js';
export { metricsLog, readMetrics, readStepMetrics } from './progress/metrics-log.js';
