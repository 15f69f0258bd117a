/**
 * Descriptive statistics for run sets: quantiles by linear interpolation
 * between closest ranks (the common "type 7" definition), so p50 of an even
 * count is the mean of the middle two. Pure; no randomness here.
 */

export interface Summary {
  n: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  p90: number;
  p99: number;
}

/** q in [0, 1] of values (need not be sorted); NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  return {
    n: values.length,
    // a loop, not Math.min(...values): tens of thousands of arguments overflow the stack
    min: values.reduce((a, b) => (b < a ? b : a), Number.POSITIVE_INFINITY),
    max: values.reduce((a, b) => (b > a ? b : a), Number.NEGATIVE_INFINITY),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    median: quantile(values, 0.5),
    p90: quantile(values, 0.9),
    p99: quantile(values, 0.99),
  };
}
