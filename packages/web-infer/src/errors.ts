/**
 * The error family of @ebmjs/web-infer. It mirrors `EbmError` of `@ebmjs/core` (same `name`,
 * codes, `code` and `details` fields) without importing core, which would pull tfjs into an
 * inference bundle. Check it with `isWebInferError(e)` or `e.name === 'EbmError'`.
 */
export type WebInferErrorCode =
  /** An option or argument has a value outside its domain (including inputs that are not images). */
  | 'INVALID_ARGUMENT'
  /** An input's size or shape disagrees with what the model takes. */
  | 'SHAPE_MISMATCH'
  /** The model or input uses something this package cannot serve. */
  | 'UNSUPPORTED'
  /** A file, URL or response could not be read or written. */
  | 'IO'
  /** A model or index file is truncated, corrupt or of an unknown format. */
  | 'CORRUPT_FILE'
  /** The extractor was used after `dispose()`. */
  | 'DISPOSED'
  /** The requested runtime or execution provider is not installed or failed to start. */
  | 'BACKEND_UNAVAILABLE';

export class WebInferError extends Error {
  override readonly name = 'EbmError';
  readonly code: WebInferErrorCode;
  /** Structured context (expected/received values, option names, file paths). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: WebInferErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export function isWebInferError(error: unknown, code?: WebInferErrorCode): error is WebInferError {
  return error instanceof WebInferError && (code === undefined || error.code === code);
}

/** The message of anything thrown, for wrapping a runtime's error into ours. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A short description of a value for error messages ("a string", "a Float32Array(12)", ...). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return value.length > 60 ? `a string "${value.slice(0, 57)}..."` : `"${value}"`;
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`;
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    return `a ${name}(${(value as unknown as ArrayLike<unknown>).length ?? value.byteLength})`;
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor === undefined || ctor === 'Object' ? 'a plain object' : `a ${ctor}`;
}
