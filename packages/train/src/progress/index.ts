export type {
  EpochRecord,
  StartEvent,
  StepEvent,
  StepRecord,
  TrainingCallbacks,
} from './events.js';
export { formatStep, type ProgressBarOptions, progressBar } from './progress-bar.js';
