export { AdamW, type AdamWOptions, type NamedTensor } from './adamw.js';
export {
  createOptimizer,
  type OptimizerConfig,
  type OptimizerName,
  setLearningRate,
} from './create-optimizer.js';
export { Lars, type LarsOptions } from './lars.js';
export { type CosineScheduleOptions, cosineSchedule } from './schedule.js';
