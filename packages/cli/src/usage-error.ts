/**
 * A bad flag, a missing file or an unknown recipe: printed as one line, exit code 2.
 * A leaf (it imports nothing), so the flag parsers and the commands share it without a cycle.
 */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}
