import { describe, expect, it } from 'vitest';
import { bootstrapMedianDifference, hashSeed, mulberry32 } from '../../../src/analysis/bootstrap.js';
import { traceMetrics } from '../../../src/analysis/metrics.js';
import { traceOf } from './fixtures.js';

describe('mulberry32', () => {
  it('is deterministic for a seed and uniform-looking in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });

  it('gives each metric its own stream from one seed', () => {
    expect(hashSeed('pull')).not.toBe(hashSeed('ready'));
    expect(hashSeed('pull')).toBe(hashSeed('pull'));
  });
});

describe('bootstrap interval of the median difference', () => {
  // Real per-run values: ready (ms) of the warm and cold nginx recordings.
  const warm = traceMetrics(traceOf('ready-nginx-warm.ndjson')).ready!;
  const cold = traceMetrics(traceOf('ready-nginx-cold.ndjson')).ready!;

  it('needs two values a side', () => {
    expect(bootstrapMedianDifference([warm], [cold, cold])).toBeUndefined();
    expect(bootstrapMedianDifference([warm, warm], [cold])).toBeUndefined();
  });

  it('excludes 0 when every B is slower than every A', () => {
    const a = [warm, warm + 40, warm - 25, warm + 10];
    const b = [cold, cold - 300, cold + 200, cold + 50];
    const ci = bootstrapMedianDifference(a, b)!;
    expect(ci.low).toBeGreaterThan(0);
    expect(ci.high).toBeGreaterThan(ci.low);
    expect(ci).toMatchObject({ level: 0.95, resamples: 2000 });
    // the interval holds the observed difference of the medians
    expect(ci.low).toBeLessThanOrEqual(cold + 25 - (warm + 5));
    expect(ci.high).toBeGreaterThanOrEqual(cold + 25 - (warm + 5));
  });

  it('includes 0 when the two sides overlap', () => {
    const a = [warm, warm + 300, warm - 100, warm + 50, warm + 120];
    const b = [warm + 20, warm - 80, warm + 280, warm + 60, warm - 10];
    const ci = bootstrapMedianDifference(a, b)!;
    expect(ci.low).toBeLessThan(0);
    expect(ci.high).toBeGreaterThan(0);
  });

  it('is the same interval every time for the same inputs, and follows the seed', () => {
    const a = [1, 5, 3, 8, 2, 9, 4];
    const b = [6, 2, 9, 7, 3, 8, 10];
    expect(bootstrapMedianDifference(a, b)).toEqual(bootstrapMedianDifference(a, b));
    const other = bootstrapMedianDifference(a, b, { seed: 7, resamples: 500, level: 0.9 })!;
    expect(other).toMatchObject({ level: 0.9, resamples: 500 });
  });

  it('rejects a level outside (0, 1)', () => {
    expect(() => bootstrapMedianDifference([1, 2], [3, 4], { level: 95 })).toThrow(RangeError);
  });
});

describe('the bootstrap without sorting each resample', () => {
  /** The definition: draw, sort, take the median; b's draw first. */
  function reference(a: readonly number[], b: readonly number[], resamples: number, seed: number): { low: number; high: number } {
    const random = mulberry32(seed);
    const median = (values: readonly number[]): number => {
      const drawn = values.map(() => values[Math.floor(random() * values.length)]!).sort((x, y) => x - y);
      const mid = (drawn.length - 1) / 2;
      return (drawn[Math.floor(mid)]! + drawn[Math.ceil(mid)]!) / 2;
    };
    const differences = Array.from({ length: resamples }, () => median(b) - median(a)).sort((x, y) => x - y);
    const at = (q: number): number => {
      const pos = (differences.length - 1) * q;
      return differences[Math.floor(pos)]! + (differences[Math.ceil(pos)]! - differences[Math.floor(pos)]!) * (pos - Math.floor(pos));
    };
    return { low: at(0.025), high: at(0.975) };
  }

  it.each([
    [2, 3],
    [5, 8],
    [31, 30],
    [200, 301],
  ])('gives exactly the interval of drawing and sorting (%i and %i values, with ties)', (na, nb) => {
    const random = mulberry32(na * 1000 + nb);
    // values on a coarse grid: many ties, as real millisecond figures have
    const a = Array.from({ length: na }, () => Math.round(random() * 20) * 5);
    const b = Array.from({ length: nb }, () => Math.round(random() * 20) * 5 + 3);
    const got = bootstrapMedianDifference(a, b, { resamples: 400, seed: 7 })!;
    const want = reference(a, b, 400, 7);
    expect(got.low).toBe(want.low);
    expect(got.high).toBe(want.high);
  });
});
