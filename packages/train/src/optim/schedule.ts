import { EbmError, validate } from '@ebmjs/core';

export interface CosineScheduleOptions {
  /** Peak learning rate, reached at the end of warm-up. */
  baseLr: number;
  totalSteps: number;
  /** Linear warm-up from 0 over this many steps. Default 0. */
  warmupSteps?: number;
  /** Final learning rate. Default 0. */
  minLr?: number;
}

/**
 * Linear warm-up then cosine decay (SGDR without restarts, as SimCLR and MoCo v2 use):
 * lr(t) = baseLr·(t+1)/warmup during warm-up, then minLr + ½(baseLr − minLr)(1 + cos(π·p)) with
 * p the fraction of the decay phase done.
 */
export function cosineSchedule(options: CosineScheduleOptions): (step: number) => number {
  const { baseLr, totalSteps, warmupSteps = 0, minLr = 0 } = options;
  validate.assertNumber(baseLr, 'cosineSchedule: baseLr', { min: 0 });
  validate.assertNumber(totalSteps, 'cosineSchedule: totalSteps', { min: 1, integer: true });
  validate.assertNumber(warmupSteps, 'cosineSchedule: warmupSteps', { min: 0, integer: true });
  validate.assertNumber(minLr, 'cosineSchedule: minLr', { min: 0, max: baseLr });
  if (warmupSteps >= totalSteps) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `cosineSchedule: warmupSteps (${warmupSteps}) must be less than totalSteps (${totalSteps}).`,
    );
  }
  return (step) => {
    if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}
