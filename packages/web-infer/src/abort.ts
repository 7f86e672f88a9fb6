import { describe, EbmError, messageOf } from './errors.js';

/**
 * Reads the `signal` of a call's options: undefined, or something with the AbortSignal shape
 * (duck-typed, so a signal from another realm or a polyfill works too).
 */
export function readSignal(where: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (
    typeof signal !== 'object' ||
    signal === null ||
    typeof (signal as AbortSignal).aborted !== 'boolean'
  ) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: option "signal" must be an AbortSignal, received ${describe(signal)}.`,
      { option: 'signal', received: describe(signal) },
    );
  }
  return signal as AbortSignal;
}

/**
 * Throws ABORTED when `signal` is aborted, saying how far the work got ("aborted after 3 of 10
 * files"). The signal's reason becomes the cause, and the message when it is not the default one.
 */
export function throwIfAborted(
  signal: AbortSignal | undefined,
  where: string,
  done: number,
  total: number,
  unit: string,
): void {
  if (signal?.aborted !== true) return;
  const reason: unknown = signal.reason;
  // The default reason (a DOMException named AbortError) says nothing the message does not.
  const plain = reason === undefined || (reason as { name?: unknown })?.name === 'AbortError';
  const why = plain ? '' : ` (${messageOf(reason)})`;
  throw new EbmError(
    'ABORTED',
    `${where}: aborted after ${done} of ${total} ${unit}${why}.`,
    { done, total },
    { cause: reason },
  );
}
