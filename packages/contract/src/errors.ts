/**
 * The one error family of ebm.js. Every public function that rejects its input throws an
 * `EbmError` whose `code` says what kind of problem it is and whose message names what was
 * expected and what was received, so callers never see a raw stack from deep inside tfjs or ORT.
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
  /** A requested backend or runtime is not installed or failed to initialise. */
  | 'BACKEND_UNAVAILABLE'
  /** A feature, layer or format is not supported. */
  | 'UNSUPPORTED'
  /** A file, directory, URL or response could not be read or written. */
  | 'IO'
  /** A saved file is truncated, corrupt or of an unknown format version. */
  | 'CORRUPT_FILE'
  /** An object was used after `dispose()`. */
  | 'DISPOSED'
  /** An operation stopped because its `AbortSignal` was aborted. */
  | 'ABORTED';

/**
 * Marks every EbmError, whichever copy of this package created it. A registered symbol is the
 * same in every realm and every duplicate install, so two copies of @ebmjs/contract (a package
 * manager that could not dedupe them) still recognise each other's errors.
 */
const MARKER = Symbol.for('@ebmjs/contract.EbmError');

export class EbmError extends Error {
  override readonly name = 'EbmError';
  readonly code: EbmErrorCode;
  /** Structured context (expected/received values, option names, paths) for programmatic handling. */
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
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for an EbmError from any copy of this package (instanceof is bound to one copy). */
  static isInstance(error: unknown): error is EbmError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }

  /**
   * `error instanceof EbmError` holds across duplicate installs too. Subclasses keep the
   * ordinary prototype check, so `instanceof SomeSubclass` still means that subclass.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of instanceof.
    if (this !== EbmError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return EbmError.isInstance(value);
  }
}

/** True when `error` is an EbmError (of any copy of this package), with `code` when given. */
export function isEbmError(error: unknown, code?: EbmErrorCode): error is EbmError {
  return EbmError.isInstance(error) && (code === undefined || error.code === code);
}

/** The message of anything thrown, for wrapping a runtime's error into ours. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
