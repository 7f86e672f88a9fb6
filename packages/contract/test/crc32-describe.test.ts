import { expect, describe as group, it } from 'vitest';
import { crc32, crc32Hex, describe } from '../src/index.js';

group('crc32', () => {
  it('matches the standard check values', () => {
    const ascii = (s: string) => new TextEncoder().encode(s);
    // The check value of CRC-32/ISO-HDLC (zlib, PNG) for "123456789".
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
    expect(crc32Hex(ascii('a'))).toBe('e8b7be43');
  });

  it('checksums data in pieces when given the previous result', () => {
    const data = new Uint8Array(1000).map((_, i) => (i * 31) % 256);
    const whole = crc32(data);
    expect(crc32(data.subarray(600), crc32(data.subarray(0, 600)))).toBe(whole);
    const flipped = data.slice();
    flipped[500]! ^= 1;
    expect(crc32(flipped)).not.toBe(whole);
  });
});

group('describe', () => {
  it('names values for error messages', () => {
    expect(describe(null)).toBe('null');
    expect(describe(undefined)).toBe('undefined');
    expect(describe('abc')).toBe('"abc"');
    expect(describe('x'.repeat(80))).toBe(`a string "${'x'.repeat(57)}..."`);
    expect(describe(0.1)).toBe('0.1');
    expect(describe(Number.NaN)).toBe('NaN');
    expect(describe(true)).toBe('true');
    expect(describe(new Float32Array(12))).toBe('a Float32Array(12)');
    expect(describe([1, 'a', null])).toBe('[1, "a", null]');
    expect(describe(new Array(20).fill(0))).toBe('an array of length 20');
    expect(describe({ a: 1 })).toBe('a plain object');
    expect(describe(new Map())).toBe('a Map');
    expect(describe(() => 1)).toBe('function');
  });
});
