import type { CliIO } from '../cli-io.js';

export interface Command {
  name: string;
  summary: string;
  help: string;
  run(args: readonly string[], io: CliIO): Promise<number>;
}
