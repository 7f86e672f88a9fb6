export * from './augment/index.js';
export * from './datasets/index.js';
export * from './eval/index.js';
export * from './optim/index.js';
