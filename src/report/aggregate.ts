/**
 * The report's numbers: per input set, how many runs, how they ended, and a
 * Summary per named metric (METRICS). The json format is this object as is
 * (schema/report.schema.json); table, markdown and html show it. Pure.
 */
import type { TraceDiff } from '../trace/diff-types.js';
import { METRICS, traceMetrics } from '../trace/metrics.js';
import type { RunSet } from '../trace/runset.js';
import { summarize, type Summary } from '../trace/stats.js';
import type { OutcomeClass, Trace } from '../trace/types.js';

export const REPORT_KIND = 'podtrace-report';
export const REPORT_SCHEMA_VERSION = 1;

export interface SetAggregate {
  label: string;
  runs: number;
  /** Outcome class -> number of runs that ended so. */
  outcomes: Partial<Record<OutcomeClass, number>>;
  /** METRICS name -> summary over the runs that have a value for it, in METRICS order. */
  metrics: Record<string, Summary>;
}

export interface ReportAggregate {
  kind: typeof REPORT_KIND;
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  sets: SetAggregate[];
  /** Set B against set A, when exactly two sets were given. */
  diff?: TraceDiff;
}

/** Microsecond resolution is all a trace has; more digits are noise in a report. */
function roundSummary(s: Summary): Summary {
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { n: s.n, min: r(s.min), max: r(s.max), mean: r(s.mean), median: r(s.median), p90: r(s.p90), p99: r(s.p99) };
}

/** Every run's value of each metric, in run order; metrics no run has are absent. */
export function metricValues(runs: readonly Trace[]): Map<string, number[]> {
  const values = new Map<string, number[]>();
  const perRun = runs.map(traceMetrics);
  for (const m of METRICS) {
    const list = perRun.map((r) => r[m.name]).filter((v): v is number => v !== undefined);
    if (list.length > 0) values.set(m.name, list);
  }
  return values;
}

export function aggregateSet(set: RunSet): SetAggregate {
  const outcomes: Partial<Record<OutcomeClass, number>> = {};
  for (const run of set.runs) outcomes[run.outcome.class] = (outcomes[run.outcome.class] ?? 0) + 1;
  const metrics: Record<string, Summary> = {};
  for (const [name, values] of metricValues(set.runs)) {
    const summary = summarize(values);
    if (summary) metrics[name] = roundSummary(summary);
  }
  return { label: set.label, runs: set.runs.length, outcomes, metrics };
}

export function aggregate(sets: readonly RunSet[], diff?: TraceDiff): ReportAggregate {
  return {
    kind: REPORT_KIND,
    schemaVersion: REPORT_SCHEMA_VERSION,
    sets: sets.map(aggregateSet),
    ...(diff ? { diff } : {}),
  };
}

export function renderReportJson(report: ReportAggregate): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** "9 ready, 1 image-pull-backoff", most frequent first. */
export function describeOutcomes(outcomes: SetAggregate['outcomes']): string {
  return Object.entries(outcomes)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0) || a[0].localeCompare(b[0]))
    .map(([cls, n]) => `${n} ${cls}`)
    .join(', ');
}
