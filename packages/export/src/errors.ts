import { EbmError, type EbmErrorCode } from '@ebmjs/contract';

/** Shorthand for the exporter's errors: every message starts with the function that raised it. */
export function exportError(
  code: EbmErrorCode,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): EbmError {
  return new EbmError(code, message, details, cause === undefined ? undefined : { cause });
}

/** The error for a layer (or a layer option) the converter cannot translate. */
export function unsupportedLayer(className: string, layerName: string, why?: string): EbmError {
  const reason = why === undefined ? '' : `: ${why}`;
  return exportError(
    'UNSUPPORTED',
    `exportOnnx: layer "${layerName}" of class ${className} is not supported${reason}.`,
    { className, layerName },
  );
}
