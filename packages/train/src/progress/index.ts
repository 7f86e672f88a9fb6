export type { EpochRecord, StepEvent, TrainingCallbacks } from './events.js';
export { metricsLog, readMetrics } from './metrics-log.js';
export { formatStep, type ProgressBarOptions, progressBar } from './progress-bar.js';
