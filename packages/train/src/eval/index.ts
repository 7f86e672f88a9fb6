export { type Embedder, embedDataset, pixelEmbedder } from './embed.js';
export { type EvaluationResult, evaluateEmbedder } from './evaluate.js';
export { accuracy, type KnnOptions, type KnnResult, knnEvaluate } from './knn.js';
export { type EmbeddedDataset, evaluationClassCount, knnAccuracy } from './knn-accuracy.js';
export { type LinearProbeOptions, type LinearProbeResult, linearProbe } from './linear-probe.js';
export * from './monitors/index.js';
