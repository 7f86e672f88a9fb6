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
export { loadFashionMnist } from './fashion-mnist.js';
export { parseIdx } from './idx.js';
export type { LoadOptions, Split } from './idx-source.js';
export { type ImageFolderOptions, imageFolder } from './image-folder.js';
export { loadMnist } from './mnist.js';
