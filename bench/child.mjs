// How a benchmark driver runs one measurement in a child process: each child prints its
// result as one JSON line last on stdout; a timeout, a crash or unreadable output comes back
// as { error } so that one failed row does not stop the run.
import { spawnSync } from 'node:child_process';

/** Runs `command args` (with `env`, else this process's) and returns its last stdout line, parsed. */
export function runJsonChild(command, args, timeoutMs, env = process.env) {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    env,
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  const line = (r.stdout ?? '').trim().split('\n').filter(Boolean).at(-1);
  if (r.error || !line) {
    const why =
      r.error?.code === 'ETIMEDOUT'
        ? `timed out after ${timeoutMs / 1000} s`
        : (r.stderr ?? '').trim().split('\n').at(-1);
    return { error: why || `exit code ${r.status}` };
  }
  try {
    return JSON.parse(line);
  } catch {
    return { error: `unreadable output: ${line.slice(0, 200)}` };
  }
}
