import type { CliIO } from '../main.js';

export interface Command {
  name: string;
  summary: string;
  help: string;
  run(args: readonly string[], io: CliIO): Promise<number>;
}

/** A bad flag, a missing file or an unknown recipe: printed as one line, exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}
