import { EbmError, type EbmErrorCode, isEbmError, messageOf } from '@ebmjs/contract';

/** The JSON body of every error response: the EbmError's code and one-line message. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** HTTP status of an EbmError code: the caller's input is 4xx, the server's state 5xx. */
const STATUS: Partial<Record<EbmErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_RANK: 400,
  SHAPE_MISMATCH: 400,
  INVALID_DTYPE: 400,
  NON_FINITE: 400,
  BATCH_TOO_SMALL: 400,
  CORRUPT_FILE: 400,
  UNSUPPORTED: 415,
  DISPOSED: 503,
  ABORTED: 503,
  BACKEND_UNAVAILABLE: 500,
  IO: 500,
};

/** An EbmError with the HTTP status it answers with (404 unknown model, 413 too large). */
export function httpError(
  status: number,
  code: EbmErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): EbmError {
  return new EbmError(code, message, { ...details, httpStatus: status });
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  validation?: unknown;
  validationContext?: string;
  message?: string;
}

/**
 * Any error a request raised, as status + body. EbmErrors keep their code; Fastify's own
 * (bad JSON, schema validation, body too large, unknown media type) become the EbmError codes
 * an ebm.js caller already handles. Only a failure that is not the caller's is a 5xx.
 */
export function toErrorResponse(
  error: unknown,
  maxBodyMb: number,
): { status: number; body: ErrorBody } {
  const reply = (status: number, code: string, message: string) => ({
    status,
    body: { error: { code, message: message.replace(/\s*\n\s*/g, ' ').trim() } },
  });
  if (isEbmError(error)) {
    const given = error.details.httpStatus;
    const status = typeof given === 'number' ? given : (STATUS[error.code] ?? 500);
    return reply(status, error.code, error.message);
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as FastifyLikeError;
  const message = messageOf(error);
  if (e.validation !== undefined) {
    return reply(400, 'INVALID_ARGUMENT', `request ${e.validationContext ?? 'body'}: ${message}`);
  }
  if (e.statusCode === 413 || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return reply(
      413,
      'INVALID_ARGUMENT',
      `request body too large: the limit is ${maxBodyMb} MB (--max-body-mb).`,
    );
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) {
    return reply(415, 'UNSUPPORTED', message);
  }
  if (
    error instanceof SyntaxError ||
    e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
  ) {
    return reply(400, 'INVALID_ARGUMENT', `request body is not valid JSON: ${message}`);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return reply(e.statusCode, 'INVALID_ARGUMENT', message);
  }
  return reply(500, 'INTERNAL', `internal error: ${message}`);
}
