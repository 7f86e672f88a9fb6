// The timing loop every benchmark process shares: `warmup` untimed calls, then `runs` timed
// ones, each with its wall time and the CPU time of the whole process (all its threads, wasm
// and ORT workers included), which other load on a shared machine disturbs less.

/** Times `fn` (sync or async); returns { values, seconds, cpuSeconds } of the timed calls. */
export async function measure(fn, { runs, warmup }) {
  const values = [];
  const seconds = [];
  const cpuSeconds = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    values.push(await fn());
    if (i >= warmup) {
      seconds.push((performance.now() - t) / 1000);
      const used = process.cpuUsage(cpu);
      cpuSeconds.push((used.user + used.system) / 1e6);
    }
  }
  return { values, seconds, cpuSeconds };
}
