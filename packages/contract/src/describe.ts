/**
 * A short description of a value for error messages: strings quoted (and cut at 60
 * characters), numbers and booleans as written, arrays of primitives in full when short,
 * typed arrays and objects by their kind ("a Float32Array(12)", "a plain object", "a Tensor").
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return value.length > 60 ? `a string "${value.slice(0, 57)}..."` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value !== 'object') return typeof value;
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `a ${value.constructor.name}(${length})`;
  }
  if (Array.isArray(value)) {
    const primitive = value.every((v) => v === null || typeof v !== 'object');
    return primitive && value.length <= 8
      ? `[${value.map(describe).join(', ')}]`
      : `an array of length ${value.length}`;
  }
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor === undefined || ctor === 'Object' ? 'a plain object' : `a ${ctor}`;
}
