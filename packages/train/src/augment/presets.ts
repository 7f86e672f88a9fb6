import type { Augmentation } from './augmentation.js';
import { colorJitter } from './color-jitter.js';
import { compose } from './compose.js';
import { gaussianBlur } from './gaussian-blur.js';
import { grayscale } from './grayscale.js';
import { horizontalFlip } from './horizontal-flip.js';
import { randomResizedCrop } from './random-resized-crop.js';

export interface PresetOptions {
  /** Image channels: 1 selects the digit/grayscale variant (no flips, no colour). */
  channels: number;
  /** Image side in pixels: blur is used from 64 px up, as the papers drop it for 32 px CIFAR. */
  size: number;
  /**
   * Overrides the preset's random resized crop: its area range `scale` and its output side
   * `size` (multi-crop's global and local views). Default: the preset's range, the input's size.
   */
  crop?: { scale?: readonly [number, number]; size?: number };
}

/**
 * Grayscale digits and small single-channel images: a random affine crop with ±15° rotation,
 * no flips (a mirrored 2 is not a 2), brightness and contrast jitter.
 */
function digits(scale: readonly [number, number], crop: PresetOptions['crop']): Augmentation {
  return compose([
    randomResizedCrop({ ratio: [0.8, 1.25], degrees: 15, ...crop, scale: crop?.scale ?? scale }),
    colorJitter({ brightness: 0.4, contrast: 0.4, p: 0.8 }),
  ]);
}

/** SimCLR (Chen et al. 2020, appendix A): crop [0.08, 1], flip, jitter (0.4, 0.4, 0.4, 0.1) p 0.8, grayscale 0.2, blur on large images. */
export function simclr({ channels, size, crop }: PresetOptions): Augmentation {
  if (channels === 1) return digits([0.3, 1], crop);
  return compose([
    randomResizedCrop({ ...crop, scale: crop?.scale ?? [0.08, 1] }),
    horizontalFlip({ p: 0.5 }),
    colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 }),
    grayscale({ p: 0.2 }),
    ...(size >= 64 ? [gaussianBlur({ p: 0.5, sigma: [0.1, 2] })] : []),
  ]);
}

/** MoCo v2 (Chen et al. 2020): crop [0.2, 1], jitter (0.4, 0.4, 0.4, 0.1) p 0.8, grayscale 0.2, blur p 0.5, flip. */
export function mocoV2({ channels, size, crop }: PresetOptions): Augmentation {
  if (channels === 1) return digits([0.3, 1], crop);
  return compose([
    randomResizedCrop({ ...crop, scale: crop?.scale ?? [0.2, 1] }),
    colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 }),
    grayscale({ p: 0.2 }),
    ...(size >= 32 ? [gaussianBlur({ p: 0.5, sigma: [0.1, 2] })] : []),
    horizontalFlip({ p: 0.5 }),
  ]);
}

/**
 * PIRL (Misra & van der Maaten 2020): the image view is a random resized crop with flip and
 * colour jitter; the transformed view is the jigsaw (see `jigsaw`), whose patches get this same
 * photometric jitter.
 */
export function pirl({ channels, crop }: PresetOptions): Augmentation {
  if (channels === 1) return digits([0.3, 1], crop);
  return compose([
    randomResizedCrop({ ...crop, scale: crop?.scale ?? [0.2, 1] }),
    horizontalFlip({ p: 0.5 }),
    colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 }),
    grayscale({ p: 0.2 }),
  ]);
}
