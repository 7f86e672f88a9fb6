import { EbmError } from '@ebmjs/contract';
import type { SaveTarget, Storage } from './storage.js';

/** String → a node:fs directory (loaded lazily so browser bundles never touch node:fs). */
export async function resolveStorage(target: SaveTarget, where: string): Promise<Storage> {
  if (typeof target === 'string') {
    if (target.length === 0)
      throw new EbmError('INVALID_ARGUMENT', `${where}: the directory path is empty.`);
    const { directoryStorage } = await import('./fs-storage.js');
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
