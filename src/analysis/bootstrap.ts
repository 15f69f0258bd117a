/**
 * A percentile bootstrap of the difference of two medians: resample each side
 * with replacement, take median(B*) - median(A*), and read the interval off
 * the sorted differences. The generator is seeded, so the same inputs always
 * give the same interval (a diff in CI must not flip between reruns). Pure.
 */
import { quantile } from './stats.js';

export const DEFAULT_RESAMPLES = 2000;
export const DEFAULT_LEVEL = 0.95;
export const DEFAULT_SEED = 0x5eed_2025;

export interface Interval {
  low: number;
  high: number;
  level: number;
  resamples: number;
}

export interface BootstrapOptions {
  resamples?: number;
  /** Confidence level in (0, 1). */
  level?: number;
  seed?: number;
}

/** mulberry32: a small, fast 32-bit generator; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable 32-bit hash (FNV-1a), to give each metric its own stream from one seed. */
export function hashSeed(text: string, seed = DEFAULT_SEED): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Draws resamples of `values` and gives each one's median, without sorting any resample: the
 * values are sorted once, a draw counts how many times each (by rank) was picked, and the median
 * is read off the running count. O(n) a resample instead of O(n log n); the same draws from the
 * same generator give the same medians as sorting each resample would.
 */
class Resampler {
  readonly #sorted: Float64Array;
  readonly #rankOf: Int32Array;
  readonly #counts: Int32Array;

  constructor(values: readonly number[]) {
    const n = values.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => values[x]! - values[y]!);
    this.#sorted = Float64Array.from(order, (i) => values[i]!);
    this.#rankOf = new Int32Array(n);
    order.forEach((index, rank) => (this.#rankOf[index] = rank));
    this.#counts = new Int32Array(n);
  }

  median(random: () => number): number {
    const n = this.#sorted.length;
    const counts = this.#counts;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[this.#rankOf[Math.floor(random() * n)]!]! += 1;
    const mid = (n - 1) / 2;
    const lo = Math.floor(mid);
    const hi = Math.ceil(mid);
    let seen = 0;
    let low = Number.NaN;
    for (let rank = 0; rank < n; rank++) {
      seen += counts[rank]!;
      if (Number.isNaN(low) && seen > lo) low = this.#sorted[rank]!;
      if (seen > hi) return (low + this.#sorted[rank]!) / 2;
    }
    return low;
  }
}

/**
 * Interval for median(b) - median(a). Needs at least 2 values a side: with
 * one, a resample is always the same value and the interval says nothing.
 */
export function bootstrapMedianDifference(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): Interval | undefined {
  if (a.length < 2 || b.length < 2) return undefined;
  const resamples = Math.max(1, Math.floor(options.resamples ?? DEFAULT_RESAMPLES));
  const level = options.level ?? DEFAULT_LEVEL;
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level ${level} is not in (0, 1)`);
  const random = mulberry32(options.seed ?? DEFAULT_SEED);
  const fromA = new Resampler(a);
  const fromB = new Resampler(b);
  const differences = new Array<number>(resamples);
  for (let i = 0; i < resamples; i++) {
    // b's draw first, then a's: the order the generator's numbers have always been used in
    const mb = fromB.median(random);
    differences[i] = mb - fromA.median(random);
  }
  const tail = (1 - level) / 2;
  return { low: quantile(differences, tail), high: quantile(differences, 1 - tail), level, resamples };
}
