import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliUsageError } from './commands/command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedFlags {
  positionals: string[];
  /** A string flag's value (or its default). */
  string(name: string): string | undefined;
  /** A boolean flag. */
  bool(name: string): boolean;
}

/** Strict flag parsing: unknown flags and missing values become one-line usage errors. */
export function parseFlags(
  args: readonly string[],
  options: Options,
  { positionals = 0 }: { positionals?: number } = {},
): ParsedFlags {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options,
      allowPositionals: positionals > 0,
      strict: true,
    });
  } catch (error) {
    // node:util's messages are clear ("Unknown option '--foo'"); keep only the first sentence.
    throw new CliUsageError(`${(error as Error).message.split('. ')[0]!.replace(/\.$/, '')}.`);
  }
  if (parsed.positionals.length > positionals) {
    throw new CliUsageError(`unexpected argument "${parsed.positionals[positionals]}".`);
  }
  return {
    positionals: parsed.positionals,
    string: (name) => parsed.values[name] as string | undefined,
    bool: (name) => parsed.values[name] === true,
  };
}

/** A numeric flag, validated: `--epochs 3`. */
export function numberFlag(
  value: string | undefined,
  flag: string,
  { integer = false, min }: { integer?: boolean; min?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || (min !== undefined && n < min)) {
    throw new CliUsageError(
      `--${flag} must be ${integer ? 'an integer' : 'a number'}${min !== undefined ? ` >= ${min}` : ''}, received "${value}".`,
    );
  }
  return n;
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(
  value: string | undefined,
  flag: string,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T))
    throw new CliUsageError(`--${flag} must be one of ${choices.join(', ')}, received "${value}".`);
  return value as T;
}
