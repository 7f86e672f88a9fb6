export type { EpochRecord, StepEvent, TrainingCallbacks } from './events.js';
export { formatStep, type ProgressBarOptions, progressBar } from './progress-bar.js';
