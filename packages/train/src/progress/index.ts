export type { EpochRecord, StepEvent, TrainingCallbacks } from './events.js';
export { metricsLog, readMetrics } from './metrics-log.js';
export { pca } from './pca.js';
export { formatStep, type ProgressBarOptions, progressBar } from './progress-bar.js';
export { type ReportInput, renderReport, scatterPlot, writeReport } from './report.js';
