import { EbmError, type EbmErrorCode, isEbmError } from '@ebmjs/contract';

export { describe, EbmError, type EbmErrorCode, isEbmError, messageOf } from '@ebmjs/contract';

/**
 * @deprecated Since web-infer throws the shared `EbmError` of `@ebmjs/contract`, so that
 * `instanceof` and `isEbmError` hold across every ebm.js package; use `EbmError`.
 */
export const WebInferError = EbmError;
/** @deprecated Use `EbmError`. */
export type WebInferError = EbmError;
/** @deprecated Use `EbmErrorCode`. */
export type WebInferErrorCode = EbmErrorCode;
/** @deprecated Use `isEbmError`. */
export const isWebInferError: (error: unknown, code?: EbmErrorCode) => error is EbmError =
  isEbmError;
