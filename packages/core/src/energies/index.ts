export { type BilinearEnergyOptions, bilinear } from './bilinear.js';
export { cosine } from './cosine.js';
export { dot } from './dot.js';
export { defineEnergy, type Energy, type EnergyOptions } from './energy.js';
export { squaredEuclidean } from './squared-euclidean.js';
