import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendInfo } from '@ebmjs/backends';
import { describeEncoder, type Encoder, loadEncoder } from '@ebmjs/models';
import { writeFileAtomic } from '@ebmjs/train';
import { CliUsageError } from './usage-error.js';

/** What `ebm train` writes to runs/<name>/run.json. */
export interface RunInfo {
  recipe: string;
  dataset: string;
  imageShape: number[];
  config: Record<string, unknown>;
  stopReason?: string;
  seconds?: number;
  /** What computed the run (`selectBackend()`'s answer), for `ebm inspect`. */
  backend?: RunBackend;
  /** The engine that ran the steps (`--engine`, 'auto' resolved), and why 'auto' chose tfjs. */
  engine?: 'tfjs' | 'onnxruntime';
  engineNote?: string;
  /** The training monitors' settings (`--knn-every`, `--online-probe`), when on. */
  monitors?: Record<string, unknown>;
}

/** The backend in run.json: the candidate chosen, the tfjs backend, where and how it computed. */
export interface RunBackend {
  /** `selectBackend()`'s candidate: node, node-gpu, webgpu, wasm, cpu, ... */
  name: string;
  /** The tfjs backend that was active (`tf.getBackend()`). */
  tfjs: string;
  device: 'gpu' | 'cpu';
  /** CPU threads; null on a GPU. */
  threads: number | null;
  /** The WebGPU adapter, when there was one. */
  adapter?: string;
}

export function runBackend(info: BackendInfo): RunBackend {
  const adapter = info.adapter
    ? [info.adapter.vendor, info.adapter.architecture, info.adapter.description]
        .filter(Boolean)
        .join(' ') + (info.adapter.software ? ' (software)' : '')
    : '';
  return {
    name: info.candidate,
    tfjs: info.backend,
    device: info.device,
    threads: info.threads,
    ...(adapter ? { adapter } : {}),
  };
}

export async function writeRunInfo(dir: string, info: RunInfo): Promise<void> {
  await writeFileAtomic(join(dir, 'run.json'), `${JSON.stringify(info, null, 2)}\n`);
}

/**
 * Loads the encoder of a run directory (runs/<name>, whose encoder/ holds the save) or of an
 * encoder save directory itself, with the run's info when there is one.
 */
export async function loadRunEncoder(path: string): Promise<{ encoder: Encoder; info?: RunInfo }> {
  const exists = async (p: string) => (await stat(p).catch(() => undefined)) !== undefined;
  if (!(await exists(path))) throw new CliUsageError(`no such run or encoder directory: ${path}`);
  if (await exists(join(path, 'encoder'))) {
    const encoder = await loadEncoder(join(path, 'encoder'));
    const info = (await exists(join(path, 'run.json')))
      ? (JSON.parse(await readFile(join(path, 'run.json'), 'utf8')) as RunInfo)
      : undefined;
    return { encoder, info };
  }
  return { encoder: describeEncoder((await loadEncoder(path)).model) };
}
