export {
  fsyncDirectory,
  removeStaleTempFiles,
  type WriteFileAtomicOptions,
  writeFileAtomic,
} from './write-file-atomic.js';
