import type { BackendInfo } from '@ebmjs/core';

/** `backend: wasm (2 threads; <notes>)`: what `selectBackend()` chose, for stderr. */
export function backendLine(info: BackendInfo): string {
  const notes = info.notes.length ? `; ${info.notes.join('; ')}` : '';
  return `backend: ${info.backend} (${info.threads ?? 'gpu'} threads${notes})`;
}
