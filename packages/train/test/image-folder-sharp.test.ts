import { EbmError } from '@ebmjs/core';
import { describe, expect, it, vi } from 'vitest';
import { imageFolder } from '../src/node.js';

// sharp is an optional peer: an install without it must get a clear error, not a module crash.
vi.mock('sharp', () => {
  throw new Error("Cannot find package 'sharp'");
});

describe('imageFolder without sharp', () => {
  it('is UNSUPPORTED with the install hint', async () => {
    const error = await imageFolder('.').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EbmError);
    expect((error as EbmError).code).toBe('UNSUPPORTED');
    expect((error as EbmError).message).toMatch(
      /optional peer dependency "sharp" \(npm install sharp\)/,
    );
    expect((error as EbmError).details).toEqual({ dependency: 'sharp' });
  });
});
