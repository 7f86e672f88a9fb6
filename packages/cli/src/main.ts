import { EbmError } from '@ebmjs/core';
import { COMMANDS, type Command } from './commands/index.js';

export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIO: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: ebm <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `ebm <command> --help` for the options of one command.',
  ].join('\n');
}

/** Runs the CLI and returns the process exit code. Errors become one line on stderr. */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 1 : 0;
  }
  const command: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`ebm: unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}.`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof EbmError || (error instanceof Error && error.name === 'CliUsageError')) {
      io.err(`ebm ${name}: ${error.message}`);
      return 2;
    }
    io.err(
      `ebm ${name}: unexpected error: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
}
