import { describe, expect, it } from 'vitest';
import { isEbmError, resolveOptions } from '../src/index.js';

interface LossOptions {
  temperature?: number;
  similarity?: 'cosine' | 'dot';
  negatives?: number[];
}
const DEFAULTS = { temperature: 0.5, similarity: 'cosine', negatives: undefined } as const;

describe('resolveOptions', () => {
  it('fills defaults, keeps given values and treats undefined as "use the default"', () => {
    const none = resolveOptions<LossOptions, typeof DEFAULTS>('loss', undefined, DEFAULTS);
    expect(none).toEqual({ temperature: 0.5, similarity: 'cosine', negatives: undefined });
    const some = resolveOptions<LossOptions, typeof DEFAULTS>(
      'loss',
      { temperature: 0.1, similarity: undefined, negatives: [1] },
      DEFAULTS,
    );
    expect(some).toEqual({ temperature: 0.1, similarity: 'cosine', negatives: [1] });
    // The type says temperature is always there now.
    const t: number = some.temperature;
    expect(t).toBe(0.1);
  });

  it('rejects a misspelt key, naming the known ones and the closest', () => {
    const error = (() => {
      try {
        resolveOptions('ntXent', { temprature: 0.1 } as LossOptions, DEFAULTS);
      } catch (e) {
        return e;
      }
    })();
    expect(isEbmError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toBe(
      'ntXent: unknown option "temprature". Did you mean "temperature"? Known options: temperature, similarity, negatives.',
    );
  });

  it('gives no suggestion for a key far from every known one', () => {
    expect(() => resolveOptions('loss', { margin: 1 } as LossOptions, DEFAULTS)).toThrow(
      /^loss: unknown option "margin". Known options: temperature, similarity, negatives.$/,
    );
  });

  it('rejects options that are not a plain object', () => {
    for (const bad of [null, 0.5, 'x', [1]]) {
      expect(() => resolveOptions('loss', bad as unknown as LossOptions, DEFAULTS)).toThrow(
        /loss: options must be an object, received/,
      );
    }
  });
});
