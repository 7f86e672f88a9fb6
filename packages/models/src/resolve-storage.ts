import { EbmError } from '@ebmjs/contract';
import { directoryStorage } from '#node-io';
import type { SaveTarget, Storage } from './storage.js';

/**
 * String → a node:fs directory. `#node-io` resolves to fs-storage.ts only under the "node"
 * condition, so browser bundles never reach node:fs (a string there is an UNSUPPORTED error).
 */
export async function resolveStorage(target: SaveTarget, where: string): Promise<Storage> {
  if (typeof target === 'string') {
    if (target.length === 0)
      throw new EbmError('INVALID_ARGUMENT', `${where}: the directory path is empty.`);
    return directoryStorage(target);
  }
  const s = target as Partial<Storage> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    typeof s.read !== 'function' ||
    typeof s.write !== 'function' ||
    typeof s.list !== 'function' ||
    typeof s.remove !== 'function' ||
    typeof s.exists !== 'function'
  ) {
    throw new EbmError(
      'INVALID_ARGUMENT',
      `${where}: the target must be a directory path or a Storage object.`,
    );
  }
  return target;
}
