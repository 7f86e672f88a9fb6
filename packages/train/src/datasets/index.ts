// Browser-safe datasets: the in-memory ImageDataset and IDX parsing. The loaders that read files
// (loadMnist, loadFashionMnist, imageFolder) are Node-only: src/node.ts.
export {
  assertDataset,
  batchCount,
  batchIndices,
  datasetSize,
  type ImageDataset,
  imageBatch,
  imageSize,
  labelBatch,
  subset,
  take,
  trainTestSplit,
} from './dataset.js';
export { parseIdx } from './idx.js';
