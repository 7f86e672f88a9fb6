// The error class lives in @ebmjs/contract so that every package (including the ones that never
// load tfjs: export, web-infer) throws and recognises the same class.
export { EbmError, type EbmErrorCode, isEbmError } from '@ebmjs/contract';
