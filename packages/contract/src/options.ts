import { describe } from './describe.js';
import { EbmError } from './errors.js';

/**
 * Every option key of `T` with its default, `undefined` where the option has none. Listing
 * `Required<T>`'s keys makes an option added to an interface but not to its defaults a type
 * error, so the list of known keys cannot fall behind.
 */
export type OptionDefaults<T extends object> = { [K in keyof Required<T>]: T[K] | undefined };

/** The options after defaults: keys with a default are no longer optional. */
export type ResolvedOptions<T extends object, D extends OptionDefaults<T>> = {
  [K in keyof Required<T>]: undefined extends D[K] ? T[K] : Exclude<T[K], undefined>;
};

/**
 * The one way ebm.js reads an options object: it must be a plain object (or undefined), every
 * key must be known (a misspelt key is an error naming the known ones, with the closest as a
 * suggestion, instead of a silent default), and `undefined` values take the default.
 * Values are checked by the caller, which knows their domains.
 */
export function resolveOptions<T extends object, const D extends OptionDefaults<T>>(
  caller: string,
  given: T | undefined,
  defaults: D,
): ResolvedOptions<T, D> {
  if (
    given !== undefined &&
    (given === null || typeof given !== 'object' || Array.isArray(given))
  ) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${caller}: options must be an object, received ${describe(given)}.`,
      { expected: 'object', received: describe(given) },
    );
  }
  const known = Object.keys(defaults);
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (!Object.hasOwn(defaults, key)) {
      const closest = nearest(key, known);
      const hint = closest === undefined ? '' : ` Did you mean "${closest}"?`;
      throw new EbmError(
        'INVALID_ARGUMENT',
        `${caller}: unknown option "${key}".${hint} Known options: ${known.join(', ') || 'none'}.`,
        { option: key, known, suggestion: closest },
      );
    }
    if (value !== undefined) out[key] = value;
  }
  return out as ResolvedOptions<T, D>;
}

/** The known key within edit distance 2 (or a third of its length) of `key`, if any. */
function nearest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length]!;
}
