import type { BackendInfo } from '@ebmjs/backends';

/** `backend: wasm (2 threads; <notes>)` or `backend: node-gpu (GPU)`: what `selectBackend()` chose, for stderr. */
export function backendLine(info: BackendInfo): string {
  const notes = info.notes.length ? `; ${info.notes.join('; ')}` : '';
  return `backend: ${info.candidate} (${computesOn(info)}${notes})`;
}

/** `GPU`, or the CPU threads: `BackendInfo.device` is what the backend itself reported. */
export function computesOn(info: BackendInfo): string {
  return info.device === 'gpu' ? 'GPU' : `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
}
