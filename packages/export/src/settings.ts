import type { ImageLayout } from '@ebmjs/contract';

/**
 * The resolved options a conversion reads (everything but the custom converters). A leaf file,
 * so the conversion context can hold them without importing the options module, whose custom
 * converters take that context.
 */
export interface ConversionSettings {
  opset: number;
  irVersion: number;
  layout: ImageLayout;
  dynamicBatch: boolean;
  batchSize: number;
  normalize: boolean;
  float16: boolean;
  optimize: boolean;
  recipe: string;
  preprocessing: { scale: number; mean: number | number[]; std: number | number[] };
  metadata: Record<string, string>;
}
