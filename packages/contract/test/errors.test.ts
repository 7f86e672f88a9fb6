import { describe, expect, it } from 'vitest';
import { EbmError, isEbmError, messageOf } from '../src/index.js';

describe('EbmError', () => {
  it('carries code, details and cause', () => {
    const cause = new Error('inner');
    const e = new EbmError('IO', 'Cannot read "x"', { path: 'x' }, { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('EbmError');
    expect(e.code).toBe('IO');
    expect(e.details).toEqual({ path: 'x' });
    expect(e.cause).toBe(cause);
    expect(isEbmError(e, 'IO')).toBe(true);
    expect(isEbmError(e, 'CORRUPT_FILE')).toBe(false);
  });

  it('is recognised across two copies of the package (a duplicate install)', async () => {
    // The query string makes Vite load a second, separate instance of the module: its own
    // EbmError class, as a second copy in node_modules would have.
    const second = '../src/errors.ts?second-copy';
    const copy = (await import(/* @vite-ignore */ second)) as typeof import('../src/errors.js');
    expect(copy.EbmError).not.toBe(EbmError);
    const foreign = new copy.EbmError('UNSUPPORTED', 'from the other copy');
    expect(EbmError.isInstance(foreign)).toBe(true);
    expect(foreign instanceof EbmError).toBe(true);
    expect(isEbmError(foreign, 'UNSUPPORTED')).toBe(true);
    expect(new EbmError('IO', 'x') instanceof copy.EbmError).toBe(true);
  });

  it('does not take look-alikes or plain errors for EbmErrors', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'EbmError', code: 'IO', details: {} });
    expect(EbmError.isInstance(lookAlike)).toBe(false);
    expect(lookAlike instanceof EbmError).toBe(false);
    expect(isEbmError(null)).toBe(false);
    expect(isEbmError('EbmError')).toBe(false);
  });

  it('keeps instanceof exact for subclasses', () => {
    class SpecialError extends EbmError {}
    const special = new SpecialError('IO', 'x');
    expect(special instanceof SpecialError).toBe(true);
    expect(special instanceof EbmError).toBe(true);
    expect(new EbmError('IO', 'x') instanceof SpecialError).toBe(false);
  });

  it('messageOf reads any thrown value', () => {
    expect(messageOf(new TypeError('bad'))).toBe('bad');
    expect(messageOf('text')).toBe('text');
    expect(messageOf(42)).toBe('42');
  });
});
