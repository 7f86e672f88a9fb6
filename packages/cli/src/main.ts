import { isEbmError, messageOf } from '@ebmjs/contract';
import type { CliIO } from './cli-io.js';
import { COMMANDS, type Command } from './commands/index.js';

export type { CliIO } from './cli-io.js';

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
    // Every package throws the one EbmError of @ebmjs/contract (web-infer and export included),
    // so a bad input anywhere below is a usage error here: one line, exit 2.
    if (isEbmError(error) || (error instanceof Error && error.name === 'CliUsageError')) {
      io.err(`ebm ${name}: ${oneLine(error.message)}`);
      return 2;
    }
    io.err(`ebm ${name}: unexpected error: ${oneLine(messageOf(error))}`);
    return 1;
  }
}

/** Error messages of runtimes below can span lines; the CLI's error is always one. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
