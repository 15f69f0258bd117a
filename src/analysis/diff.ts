/**
 * `podtrace diff A B`: per METRICS value, A against B (B is the candidate,
 * A the baseline), with a verdict that does not call noise a regression, and
 * the facts that differ between the two sides besides timing. Pure.
 *
 * Verdicts, in order:
 * - 'n/a': a side has no value for the metric;
 * - 'unchanged': the medians are equal (e.g. no pull on either side);
 * - 'noise': both sides have >= 2 runs and the bootstrap interval of
 *   median(B) - median(A) includes 0;
 * - 'within-threshold': |delta| is not beyond the metric's threshold;
 * - 'regression' / 'improvement': beyond it, slower / faster.
 * With one run on a side there is no interval: a change beyond the threshold
 * is a regression on the strength of the two numbers alone (TraceDiff.notes
 * says so).
 *
 * 'ready' (POST to Ready) is the sum of the steps api..readiness. When it
 * regressed, it is `explainedBy` the steps that regressed if what is left of
 * it without them (run by run) is not a regression: a cold pull then makes one
 * regression, 'pull', not two.
 */
import { bootstrapMedianDifference, DEFAULT_LEVEL, DEFAULT_RESAMPLES, DEFAULT_SEED, hashSeed, type Interval } from './bootstrap.js';
import type { ContextDifference, DiffReason, MetricDiff, TraceDiff } from './diff-types.js';
import { METRICS } from './metrics.js';
import type { RunSet } from './runset.js';
import { FACTS, factSetOf, runContext, type FactSet, type RunContext } from './run-facts.js';
import { quantile, summarize, type Summary } from './stats.js';
import type { Trace } from '../trace/types.js';
import { formatMs } from '../trace/format-ms.js';

export { DEFAULT_THRESHOLD, DEFAULT_THRESHOLDS, allowedChangeMs, parseThresholds, thresholdFor, type ThresholdRule, type Thresholds } from './thresholds.js';
import { DEFAULT_THRESHOLDS, allowedChangeMs, thresholdFor, type ThresholdRule, type Thresholds } from './thresholds.js';

export interface DiffOptions {
  thresholds?: Thresholds;
  resamples?: number;
  /** Confidence level of the interval, default 0.95. */
  level?: number;
  seed?: number;
}

/** The total and the steps it is made of, in METRICS names. */
export const METRIC_PARTS: Readonly<Record<string, readonly string[]>> = {
  ready: ['api', 'schedule', 'kubelet', 'sandbox', 'pull', 'start', 'readiness'],
};

/** µs: all the resolution a trace has. */
function r(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function roundSummary(s: Summary): Summary {
  return { n: s.n, min: r(s.min), max: r(s.max), mean: r(s.mean), median: r(s.median), p90: r(s.p90), p99: r(s.p99) };
}

type Verdict = MetricDiff['verdict'];

function verdictOf(a: readonly number[], b: readonly number[], rule: ThresholdRule, ci: Interval | undefined): { verdict: Verdict; deltaMs?: number; allowedMs?: number } {
  if (a.length === 0 || b.length === 0) return { verdict: 'n/a' };
  const medianA = quantile(a, 0.5);
  const deltaMs = quantile(b, 0.5) - medianA;
  const allowedMs = allowedChangeMs(rule, medianA);
  // Sub-microsecond differences are float noise: a trace has µs resolution.
  if (Math.abs(deltaMs) < 0.0005) return { verdict: 'unchanged', deltaMs, allowedMs };
  if (ci && ci.low <= 0 && ci.high >= 0) return { verdict: 'noise', deltaMs, allowedMs };
  if (Math.abs(deltaMs) <= allowedMs) return { verdict: 'within-threshold', deltaMs, allowedMs };
  return { verdict: deltaMs > 0 ? 'regression' : 'improvement', deltaMs, allowedMs };
}

function column(rows: ReadonlyArray<Record<string, number>>, metric: string): number[] {
  return rows.map((row) => row[metric]).filter((v): v is number => v !== undefined);
}

/** Per run, the total without the given parts; runs missing any of them are left out. */
function residual(rows: ReadonlyArray<Record<string, number>>, total: string, parts: readonly string[]): number[] {
  const out: number[] = [];
  for (const row of rows) {
    if (row[total] === undefined || parts.some((p) => row[p] === undefined)) continue;
    out.push(parts.reduce((left, p) => left - row[p]!, row[total]!));
  }
  return out;
}

// ---------- what else differs ----------

function distinct(values: Iterable<string | undefined>): string[] {
  const seen: string[] = [];
  for (const v of values) if (v !== undefined && v !== '' && !seen.includes(v)) seen.push(v);
  return seen;
}

/**
 * Facts that differ: for each, the distinct values of each side, when both
 * sides know it and the two lists are not the same. An unknown (an image
 * size is only reported on a pull) is not a difference.
 */
export function contextDifferences(a: readonly Trace[], b: readonly Trace[]): ContextDifference[] {
  return contextDifferencesOf(a.map(runContext), b.map(runContext));
}

function contextDifferencesOf(a: readonly RunContext[], b: readonly RunContext[]): ContextDifference[] {
  const out: ContextDifference[] = [];
  for (const [i, [what]] of FACTS.entries()) {
    const va = distinct(a.flatMap((r) => r.facts[i]!));
    const vb = distinct(b.flatMap((r) => r.facts[i]!));
    if (va.length === 0 || vb.length === 0) continue;
    const same = va.length === vb.length && va.every((v) => vb.includes(v));
    if (!same) out.push({ what, a: va, b: vb });
  }
  // Admission: only the changes one side saw and the other did not.
  const ka = new Set(a.flatMap((r) => r.admission));
  const kb = new Set(b.flatMap((r) => r.admission));
  const onlyA = [...ka].filter((k) => !kb.has(k));
  const onlyB = [...kb].filter((k) => !ka.has(k));
  if (onlyA.length > 0 || onlyB.length > 0) out.push({ what: 'admission changes', a: onlyA, b: onlyB });
  return out;
}

// ---------- the diff ----------

/** B against A: A is the baseline, a positive delta is B slower. */
export function diff(a: RunSet | FactSet, b: RunSet | FactSet, options: DiffOptions = {}): TraceDiff {
  return diffFacts(factSetOf(a), factSetOf(b), options);
}

function diffFacts(a: FactSet, b: FactSet, options: DiffOptions): TraceDiff {
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const boot = {
    resamples: options.resamples ?? DEFAULT_RESAMPLES,
    level: options.level ?? DEFAULT_LEVEL,
  };
  const seed = options.seed ?? DEFAULT_SEED;
  const rowsA = a.runs.map((r) => r.metrics);
  const rowsB = b.runs.map((r) => r.metrics);
  const precisionA = a.runs.map((r) => r.precisions);
  const precisionB = b.runs.map((r) => r.precisions);

  const metrics: MetricDiff[] = METRICS.map((spec) => {
    const va = column(rowsA, spec.name);
    const vb = column(rowsB, spec.name);
    const rule = thresholdFor(thresholds, spec.name);
    const ci = bootstrapMedianDifference(va, vb, { ...boot, seed: hashSeed(spec.name, seed) });
    const judged = verdictOf(va, vb, rule, ci);
    const { deltaMs, allowedMs } = judged;
    const pa = largest(precisionA, spec.name);
    const pb = largest(precisionB, spec.name);
    const precisionMs = pa !== undefined && pb !== undefined ? pa + pb : undefined;
    // beyond the threshold but not beyond what the two measurements can tell apart
    const verdict: Verdict =
      (judged.verdict === 'regression' || judged.verdict === 'improvement') && precisionMs !== undefined && Math.abs(deltaMs ?? 0) <= precisionMs ? 'within-error' : judged.verdict;
    const sa = summarize(va);
    const sb = summarize(vb);
    const medianA = sa?.median;
    const out: MetricDiff = {
      metric: spec.name,
      label: spec.label,
      ...(sa ? { a: roundSummary(sa) } : {}),
      ...(sb ? { b: roundSummary(sb) } : {}),
      ...(deltaMs !== undefined ? { deltaMs: r(deltaMs) } : {}),
      ...(deltaMs !== undefined && medianA !== undefined && medianA !== 0 ? { deltaPct: Math.round((deltaMs / medianA) * 1000) / 10 } : {}),
      ...(ci ? { ci: { low: r(ci.low), high: r(ci.high), level: ci.level, resamples: ci.resamples } } : {}),
      threshold: rule.text,
      ...(allowedMs !== undefined ? { thresholdMs: r(allowedMs) } : {}),
      ...(precisionMs !== undefined ? { precisionMs: r(precisionMs) } : {}),
      verdict,
    };
    return out;
  });

  // A total that moved only because its steps did is explained by them.
  for (const [total, parts] of Object.entries(METRIC_PARTS)) {
    const m = metrics.find((x) => x.metric === total);
    if (!m || (m.verdict !== 'regression' && m.verdict !== 'improvement')) continue;
    const moved = parts.filter((p) => metrics.find((x) => x.metric === p)?.verdict === m.verdict);
    if (moved.length === 0) continue;
    const ra = residual(rowsA, total, moved);
    const rb = residual(rowsB, total, moved);
    const rule = thresholdFor(thresholds, total);
    const ci = bootstrapMedianDifference(ra, rb, { ...boot, seed: hashSeed(`${total}-residual`, seed) });
    // The residual is judged against the total's own allowance (a % of the whole, not of the remainder).
    const allowed = m.thresholdMs ?? 0;
    const residualVerdict = verdictOf(ra, rb, { ms: allowed, text: rule.text }, ci).verdict;
    if (residualVerdict !== m.verdict) m.explainedBy = moved;
  }

  const notes: string[] = [];
  const singles = [a.runs.length < 2 ? 'A' : undefined, b.runs.length < 2 ? 'B' : undefined].filter(Boolean);
  if (singles.length > 0) {
    notes.push(
      `${singles.join(' and ')} ${singles.length > 1 ? 'have' : 'has'} a single run: no confidence interval, so a change beyond the threshold counts as a regression even if it is run-to-run noise; compare run sets (podtrace create --runs N) to tell them apart`,
    );
  }
  const pick = (verdict: Verdict) => metrics.filter((m) => m.verdict === verdict && !m.explainedBy).map((m) => m.metric);
  const context = contextDifferencesOf(a.runs, b.runs);
  const why = reasons(metrics, context);
  return {
    a: { label: a.label, runs: a.runs.length },
    b: { label: b.label, runs: b.runs.length },
    metrics,
    context,
    regressions: pick('regression'),
    improvements: pick('improvement'),
    notes,
    ...(why.length > 0 ? { why } : {}),
  };
}

/** The largest precision of a metric among the runs that have it. */
function largest(precisions: ReadonlyArray<Record<string, number>>, metric: string): number | undefined {
  const known = precisions.map((p) => p[metric]).filter((v): v is number => v !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
}

/** The facts that bear on each step, most telling first. */
const BEARS_ON: Readonly<Record<string, readonly string[]>> = {
  client: ['server version'],
  api: ['admission changes', 'server version'],
  schedule: ['node', 'server version'],
  kubelet: ['kubeletVersion', 'node'],
  sandbox: ['containerRuntimeVersion', 'node', 'kubeletVersion'],
  pull: ['pull', 'image digest', 'image size', 'image', 'node', 'containerRuntimeVersion'],
  start: ['init containers', 'postStart hooks', 'image', 'containerRuntimeVersion', 'node'],
  readiness: ['readiness probe', 'postStart hooks', 'image', 'node'],
  teardown: ['preStop hooks', 'node', 'kubeletVersion'],
};

function reasons(metrics: readonly MetricDiff[], context: readonly ContextDifference[]): DiffReason[] {
  const out: DiffReason[] = [];
  for (const m of metrics) {
    if ((m.verdict !== 'regression' && m.verdict !== 'improvement') || m.explainedBy || m.deltaMs === undefined) continue;
    const parts = METRIC_PARTS[m.metric];
    const facts = (BEARS_ON[m.metric] ?? parts?.flatMap((p) => BEARS_ON[p] ?? []) ?? []).filter((f, i, all) => all.indexOf(f) === i);
    const differing = facts.map((f) => context.find((c) => c.what === f)).filter((c): c is ContextDifference => c !== undefined);
    const sign = m.deltaMs > 0 ? '+' : '−';
    const by = `${m.label} ${sign}${formatMs(Math.abs(m.deltaMs))}`;
    const because = differing.map((c) => `${c.what}: A ${c.a.join('; ') || 'none'}, B ${c.b.join('; ') || 'none'}`);
    const text = because.length > 0 ? `${by}, likely because ${because.join('; ')}` : `${by}; nothing podtrace records about the two sides differs for this step (node, versions, image, pull, probes, admission): look at the load on the node and the cluster`;
    out.push({ metric: m.metric, deltaMs: m.deltaMs, verdict: m.verdict, text, facts: differing.map((c) => c.what) });
  }
  return out;
}
