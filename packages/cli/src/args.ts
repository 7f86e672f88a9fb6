import { stat } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { EbmError } from '@ebmjs/core';
import { CliUsageError } from './usage-error.js';

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
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string' && value.trim() === '')
      throw new CliUsageError(`--${name} must not be empty.`);
  }
  const empty = parsed.positionals.findIndex((p) => p.trim() === '');
  if (empty >= 0) throw new CliUsageError(`argument ${empty + 1} must not be empty.`);
  if (parsed.positionals.length > positionals) {
    throw new CliUsageError(`unexpected argument "${parsed.positionals[positionals]}".`);
  }
  return {
    positionals: parsed.positionals,
    string: (name) => parsed.values[name] as string | undefined,
    bool: (name) => parsed.values[name] === true,
  };
}

/** A numeric flag, validated: `--epochs 3`; `above` is an exclusive lower bound (`--lr` > 0). */
export function numberFlag(
  value: string | undefined,
  flag: string,
  { integer = false, min, above }: { integer?: boolean; min?: number; above?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  // Number('') and Number('  ') are 0: an empty value is not a number.
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (
    !Number.isFinite(n) ||
    (integer && !Number.isInteger(n)) ||
    (min !== undefined && n < min) ||
    (above !== undefined && n <= above)
  ) {
    const bound = min !== undefined ? ` >= ${min}` : above !== undefined ? ` > ${above}` : '';
    throw new CliUsageError(
      `--${flag} must be ${integer ? 'an integer' : 'a number'}${bound}, received "${value}".`,
    );
  }
  return n;
}

/**
 * Pre-flight for a path argument, before any work: IO naming the path when it is missing,
 * INVALID_ARGUMENT when it is not the `kind` wanted.
 */
export async function requirePath(
  path: string,
  what: string,
  kind: 'file' | 'directory',
): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined)
    throw new EbmError('IO', `no such ${what}: ${path}`, { path, expected: kind });
  if (kind === 'file' ? !info.isFile() : !info.isDirectory()) {
    throw new EbmError('INVALID_ARGUMENT', `${what} ${path} is not a ${kind}.`, {
      path,
      expected: kind,
    });
  }
}

/** A dataset name (`mnist`, `cifar10`, ...) or an existing directory, checked before any data is loaded. */
export async function checkDatasetFlag(name: string): Promise<void> {
  if (['mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'stl10'].includes(name)) return;
  const info = await stat(name).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new CliUsageError(
      `--dataset must be mnist, fashion-mnist, cifar10, cifar100, stl10 or a directory of class folders; "${name}" is none of them.`,
    );
  }
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
