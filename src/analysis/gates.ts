/**
 * CI gates: `--fail-on 'ready>5s,pull>2s'` on `podtrace create` and
 * `podtrace report`. A gate compares one statistic of one METRICS value over
 * the runs (the median unless written `ready.p90>5s`; for a single trace the
 * median is the value) with a limit. Parsing throws RuleSyntaxError; evaluation is
 * pure.
 *
 * A crossing no larger than the value's precision is within measurement error: it is reported
 * (`withinError`), not failed. A metric's precision is the sum of its two ends' precisions
 * (metrics.ts); a statistic over runs takes the largest precision among the runs that have the
 * metric (the run a quantile lands on changes with one more run: the largest is the one that holds).
 */
import { formatMs } from '../trace/format-ms.js';
import { DURATION_EXAMPLES, parseDuration } from './duration.js';
import { METRIC_NAMES, traceMetricPrecisions, traceMetrics } from './metrics.js';
import type { RunSet } from './runset.js';
import { isFactSet, type FactSet } from './run-facts.js';
import { RuleSyntaxError } from './rule-error.js';
import { quantile } from './stats.js';
import type { Trace } from '../trace/types.js';

/** 'median', 'mean', 'min', 'max' or a percentile 'p1'..'p99' (p50 is the median). */
export type GateStat = string;

export interface Gate {
  metric: string;
  stat: GateStat;
  limitMs: number;
  /** As written, normalized: 'ready>5s', 'ready.p90>1.5s'. */
  text: string;
  /** The limit as written: '5s'. */
  limitText: string;
}

export interface GateViolation {
  gate: Gate;
  /** The statistic over the runs that have the metric; undefined when none has it (not measured: a violation too). */
  valueMs?: number;
  /** How many runs had a value. */
  runs: number;
  /** The statistic's precision (the largest among the runs), ms. */
  precisionMs?: number;
  /** The value is over the limit by no more than its precision: a warning, not a failure. */
  withinError?: true;
}

const STAT = /^(median|mean|min|max|p(\d{1,2}))$/;

function statValue(values: readonly number[], stat: GateStat): number {
  switch (stat) {
    case 'median':
      return quantile(values, 0.5);
    case 'mean':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    default:
      return quantile(values, Number(stat.slice(1)) / 100);
  }
}

function metricList(): string {
  return METRIC_NAMES.join(', ');
}

/**
 * `METRIC>DURATION[,METRIC.STAT>DURATION...]`; several texts (a repeated flag)
 * are one list. Throws RuleSyntaxError naming the bad part and the valid metric names.
 */
export function parseFailOn(text: string | readonly string[], flag = '--fail-on'): Gate[] {
  const texts = typeof text === 'string' ? [text] : text;
  const gates: Gate[] = [];
  for (const whole of texts) {
    const parts = whole.split(',').map((p) => p.trim());
    if (parts.every((p) => p === '')) throw new RuleSyntaxError(`${flag} is empty: write e.g. ${flag} 'ready>5s,pull>2s'`);
    for (const part of parts) {
      if (part === '') continue;
      const match = /^([A-Za-z][\w-]*)(?:\.([A-Za-z0-9]+))?\s*>\s*(.+)$/.exec(part);
      if (!match) {
        throw new RuleSyntaxError(`${flag} ${JSON.stringify(part)}: write METRIC>DURATION, e.g. ready>5s or pull.p90>2s (metrics: ${metricList()})`);
      }
      const metric = match[1]!.toLowerCase();
      if (!METRIC_NAMES.includes(metric)) {
        throw new RuleSyntaxError(`${flag} ${JSON.stringify(part)}: unknown metric "${match[1]}"; use one of ${metricList()}`);
      }
      const stat = (match[2] ?? 'median').toLowerCase().replace(/^p50$/, 'median');
      const statMatch = STAT.exec(stat);
      if (!statMatch || (statMatch[2] !== undefined && Number(statMatch[2]) < 1)) {
        throw new RuleSyntaxError(`${flag} ${JSON.stringify(part)}: unknown statistic "${match[2]}"; use median, mean, min, max or p1..p99`);
      }
      const limitText = match[3]!.trim();
      const limitMs = parseDuration(limitText);
      if (limitMs === undefined) {
        throw new RuleSyntaxError(`${flag} ${JSON.stringify(part)}: "${limitText}" is not a duration; write e.g. ${DURATION_EXAMPLES}`);
      }
      const name = stat === 'median' ? metric : `${metric}.${stat}`;
      gates.push({ metric, stat, limitMs, limitText, text: `${name}>${limitText}` });
    }
  }
  return gates;
}

function tracesOf(input: RunSet | Trace | readonly Trace[]): readonly Trace[] {
  if (Array.isArray(input)) return input as readonly Trace[];
  if ('runs' in (input as RunSet) && Array.isArray((input as RunSet).runs)) return (input as RunSet).runs;
  return [input as Trace];
}

/**
 * The gates that fail, in the order given. A metric no run has a value for
 * (the pod never became Ready, --keep has no teardown) fails its gate: the
 * limit cannot be shown to hold.
 */
export function evaluateGates(input: RunSet | FactSet | Trace | readonly Trace[], gates: readonly Gate[]): GateViolation[] {
  const facts = !Array.isArray(input) && isFactSet(input as RunSet | FactSet) ? (input as FactSet).runs : undefined;
  const traces = facts ? [] : tracesOf(input as RunSet | Trace | readonly Trace[]);
  const perRun = facts ? facts.map((r) => r.metrics) : traces.map(traceMetrics);
  const precisions = facts ? facts.map((r) => r.precisions) : traces.map(traceMetricPrecisions);
  const violations: GateViolation[] = [];
  for (const gate of gates) {
    const values = perRun.map((m) => m[gate.metric]).filter((v): v is number => v !== undefined);
    if (values.length === 0) {
      violations.push({ gate, runs: 0 });
      continue;
    }
    const valueMs = statValue(values, gate.stat);
    if (valueMs <= gate.limitMs) continue;
    const known = perRun.flatMap((m, i) => (m[gate.metric] !== undefined && precisions[i]![gate.metric] !== undefined ? [precisions[i]![gate.metric]!] : []));
    const precisionMs = known.length > 0 ? Math.max(...known) : undefined;
    const withinError = precisionMs !== undefined && valueMs - gate.limitMs <= precisionMs;
    violations.push({ gate, valueMs, runs: values.length, ...(precisionMs !== undefined ? { precisionMs } : {}), ...(withinError ? { withinError: true as const } : {}) });
  }
  return violations;
}

/** The crossings that fail (beyond their precision, or not measured at all). */
export function failingGates(violations: readonly GateViolation[]): GateViolation[] {
  return violations.filter((v) => !v.withinError);
}

/** One warning line for the crossings within measurement error; undefined when there is none. */
export function describeWithinError(violations: readonly GateViolation[]): string | undefined {
  const within = violations.filter((v) => v.withinError);
  if (within.length === 0) return undefined;
  const parts = within.map(({ gate, valueMs, precisionMs }) => `${gate.stat === 'median' ? gate.metric : `${gate.metric} ${gate.stat}`} ${formatMs(valueMs!)} > ${gate.limitText} by ${formatMs(valueMs! - gate.limitMs)}, within its precision ±${formatMs(precisionMs!)}`);
  return `warning: within measurement error, not counted as a failure: ${parts.join(', ')}`;
}

/**
 * One line: `threshold exceeded: ready 6.20s > 5s, pull 2.40s > 2s`. The
 * statistic is named when more than one run was measured (`ready median 6.20s`).
 */
export function describeViolations(violations: readonly GateViolation[]): string {
  const parts = violations.map(({ gate, valueMs, runs }) => {
    const name = gate.stat === 'median' ? gate.metric : `${gate.metric} ${gate.stat}`;
    if (valueMs === undefined) return `${name} not measured (limit ${gate.limitText})`;
    const stat = gate.stat === 'median' && runs > 1 ? `${name} median` : name;
    return `${stat} ${formatMs(valueMs)} > ${gate.limitText}`;
  });
  return `threshold exceeded: ${parts.join(', ')}`;
}
