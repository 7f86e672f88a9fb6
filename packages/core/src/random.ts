/**
 * Seeded pseudo-randomness. tfjs random ops accept a per-call seed; `Rng` hands out a fresh
 * deterministic seed for each of them and draws JS-side numbers with mulberry32, so a whole
 * sampler run or training run replays exactly from one integer.
 */
export class Rng {
  private state: number;

  constructor(seed: number = Date.now()) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A seed for one tfjs random op. */
  seed(): number {
    return Math.floor(this.next() * 2147483647);
  }

  /** The internal state, for checkpoints; `new Rng(state)` continues the same stream. */
  get stateValue(): number {
    return this.state;
  }

  /** Fisher-Yates shuffle of [0, n), or of the first `k` positions of it. */
  permutation(n: number, k: number = n): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = 0; i < Math.min(k, n - 1); i++) {
      const j = i + this.int(n - i);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return k === n ? out : out.slice(0, k);
  }

  /** Standard normal draw (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
