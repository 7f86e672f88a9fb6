/**
 * The one error family of ebm.js. Every public function that rejects its input throws an
 * `EbmError` whose `code` says what kind of problem it is and whose message names what was
 * expected and what was received, so callers never see a raw stack from deep inside tfjs.
 */
export type EbmErrorCode =
  /** An option or argument has a value outside its domain. */
  | 'INVALID_ARGUMENT'
  /** A tensor has the wrong rank. */
  | 'INVALID_RANK'
  /** Two tensors (or a tensor and an option) disagree on a dimension. */
  | 'SHAPE_MISMATCH'
  /** A tensor has the wrong dtype. */
  | 'INVALID_DTYPE'
  /** A tensor holds NaN or ±Infinity. */
  | 'NON_FINITE'
  /** A batch is too small for the loss or sampler (for example one sample and no negatives). */
  | 'BATCH_TOO_SMALL'
  /** A requested backend is not installed or failed to initialise. */
  | 'BACKEND_UNAVAILABLE'
  /** A feature, layer or format is not supported. */
  | 'UNSUPPORTED'
  /** A file or directory could not be read or written. */
  | 'IO'
  /** A saved file is truncated, corrupt or of an unknown format version. */
  | 'CORRUPT_FILE'
  /** An object was used after `dispose()`. */
  | 'DISPOSED';

export class EbmError extends Error {
  override readonly name = 'EbmError';
  readonly code: EbmErrorCode;
  /** Structured context (expected/received values, option names) for programmatic handling. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: EbmErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export function isEbmError(error: unknown, code?: EbmErrorCode): error is EbmError {
  return error instanceof EbmError && (code === undefined || error.code === code);
}
