export { useCpuBackend } from './backend.js';
export { expectClose } from './close.js';
export { checkGradient, type GradientCheckOptions } from './gradient-check.js';
export { expectNoTensorLeak } from './leaks.js';
