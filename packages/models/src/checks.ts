import { EbmError, validate } from '@ebmjs/core';

/** Option checks shared by the builders; every failure is an EbmError naming the option. */

export function positiveInt(value: unknown, what: string): number {
  validate.assertNumber(value, what, { min: 1, integer: true });
  return value;
}

export function unitInterval(value: unknown, what: string, { open = false } = {}): number {
  validate.assertNumber(value, what, { min: 0, max: 1, exclusiveMin: open });
  return value;
}

export function positiveIntList(
  value: unknown,
  what: string,
  { allowEmpty = false } = {},
): number[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be ${allowEmpty ? 'an' : 'a non-empty'} array of positive integers, received ${JSON.stringify(value)}.`,
      { argument: what, received: value },
    );
  }
  return value.map((v, i) => positiveInt(v, `${what}[${i}]`));
}

/** An input shape without the batch dimension; `null` allows a free spatial size. */
export function inputShape(
  value: unknown,
  what: string,
  rank: number | readonly number[],
  { allowNull = false } = {},
): (number | null)[] {
  const ranks = typeof rank === 'number' ? [rank] : rank;
  const ok =
    Array.isArray(value) &&
    ranks.includes(value.length) &&
    value.every((d) => (allowNull && d === null) || (Number.isInteger(d) && d > 0));
  if (!ok) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be an array of ${ranks.join(' or ')} positive integers${allowNull ? ' (or null for a free size)' : ''}, ` +
        `received ${JSON.stringify(value)}.`,
      { argument: what, received: value },
    );
  }
  return [...(value as (number | null)[])];
}

export function bool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must be a boolean, received ${String(value)}.`,
      {
        argument: what,
        received: value,
      },
    );
  }
  return value;
}

/** Layer names end up in weight names and ONNX node names: keep them to a safe alphabet. */
export function layerName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(value)) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${what} must start with a letter and contain only letters, digits and _, received ${JSON.stringify(value)}.`,
      { argument: what, received: value },
    );
  }
  return value;
}

export function seed(value: unknown, what: string): number {
  validate.assertNumber(value, what, { integer: true });
  return value;
}
