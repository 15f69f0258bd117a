/**
 * What `podtrace diff A B` computes (src/trace/diff.ts) and the renderers
 * show. A and B are run sets (a single trace is a set of one).
 */
import type { Summary } from './stats.js';

export interface MetricDiff {
  /** A METRICS name (src/trace/metrics.ts): 'ready', 'pull', ... */
  metric: string;
  label: string;
  a?: Summary;
  b?: Summary;
  /** median(B) - median(A), ms; undefined when either side has no value. */
  deltaMs?: number;
  /** deltaMs / median(A) * 100; undefined when median(A) is 0 or missing. */
  deltaPct?: number;
  /**
   * Bootstrap confidence interval of median(B) - median(A) (95 %, seeded, so
   * the same inputs give the same interval); only when both sides have >= 2 runs.
   */
  ci?: { low: number; high: number; level: number; resamples: number };
  /** The threshold that applied to this metric, as written: '10%', '200ms', 'pull=1s'. */
  threshold?: string;
  /** That threshold in ms for this metric (a percentage applied to median(A)). */
  thresholdMs?: number;
  /**
   * 'regression': B slower beyond the threshold, and (with >= 2 runs a side) the
   * interval excludes 0; 'improvement' likewise faster; 'noise': the interval
   * includes 0; 'within-threshold': a real but small change; 'n/a': no data.
   */
  verdict: 'regression' | 'improvement' | 'noise' | 'within-threshold' | 'within-error' | 'unchanged' | 'n/a';
  /**
   * How far Δ may be off: the two sides' precisions added, each the largest among its runs (a
   * metric's precision is the sum of its two ends'). A change beyond the threshold but not beyond
   * this is 'within-error'.
   */
  precisionMs?: number;
  /**
   * A total ('ready') whose change is accounted for by these steps, which
   * changed the same way: it is then not listed in `regressions` /
   * `improvements` on its own (a cold pull is one regression, not two).
   */
  explainedBy?: string[];
}

/**
 * A fact that differs between the two sides (values as text, one per distinct
 * value). For 'admission changes', the changes only that side saw.
 */
export interface ContextDifference {
  /** 'outcome', 'server version', 'node', 'kubeletVersion', 'containerRuntimeVersion', 'image', 'image digest', 'image size', 'pull', 'qosClass', 'admission changes'. */
  what: string;
  a: string[];
  b: string[];
}

export interface TraceDiff {
  a: { label: string; runs: number };
  b: { label: string; runs: number };
  metrics: MetricDiff[];
  context: ContextDifference[];
  /** Metrics with verdict 'regression', except totals explained by their steps. */
  regressions: string[];
  /** Likewise for 'improvement'. */
  improvements?: string[];
  /** Caveats for the reader, one sentence each (e.g. no interval with a single run). */
  notes?: string[];
  /** Each step that moved (regression or improvement), by how much, and the likely cause from the facts that differ. */
  why?: DiffReason[];
}

export interface DiffReason {
  metric: string;
  deltaMs: number;
  verdict: 'regression' | 'improvement';
  /** One sentence: "image pull +2.87s: pull: A present, B pulled". */
  text: string;
  /** The facts (ContextDifference.what) that bear on this step and differ. */
  facts: string[];
}
