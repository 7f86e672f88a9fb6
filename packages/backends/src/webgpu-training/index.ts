export { imagesPerSplit, ROWS_PER_SPLIT } from './conv2d-backprop-filter.js';
export {
  registerWebGPUTrainingKernels,
  unregisterWebGPUTrainingKernels,
  WEBGPU_TRAINING_KERNELS,
  webgpuTrainingKernelsRegistered,
} from './register.js';
