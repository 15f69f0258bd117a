/**
 * The report's numbers: per input set, how many runs, how they ended, and a
 * Summary per named metric (METRICS). The json format is this object as is
 * (schema/report.schema.json); table, markdown and html show it. Pure.
 */
import type { TraceDiff } from '../analysis/diff-types.js';
import { METRICS, traceMetrics } from '../analysis/metrics.js';
import type { RunSet } from '../analysis/runset.js';
import { isFactSet, runFacts, type AfterReady, type FactSet, type RunFacts } from '../analysis/run-facts.js';
export type { AfterReady };
import { summarize, type Summary } from '../analysis/stats.js';
import type { CauseCode, OutcomeClass, Trace } from '../trace/types.js';

export const REPORT_KIND = 'podtrace-report';
export const REPORT_SCHEMA_VERSION = 1;

export interface SetAggregate {
  label: string;
  runs: number;
  /** Outcome class -> number of runs that ended so. */
  outcomes: Partial<Record<OutcomeClass, number>>;
  /** METRICS name -> summary over the runs that have a value for it, in METRICS order. */
  metrics: Record<string, Summary>;
  /** --observe: per observed run, what happened after Ready (absent when no run was observed). */
  afterReady?: AfterReady[];
  /** Failed runs: cause code -> number of runs it ended (absent when no failed run had a cause). */
  causes?: Partial<Record<CauseCode, number>>;
  /** Where the time went in the run with the median time to Ready (its number, from 1). */
  explain?: { run: number; summary: string };
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

/** A run's facts as the report takes them (with what --observe saw, summed up). */
export function reportFacts(trace: Trace): RunFacts {
  return runFacts(trace, (t) => {
    const { run: _run, ...rest } = afterReadyOf(t, 0);
    return rest;
  });
}

/** metricValues() from the runs' facts. */
export function factValues(set: FactSet): Map<string, number[]> {
  const values = new Map<string, number[]>();
  for (const m of METRICS) {
    const list = set.runs.map((r) => r.metrics[m.name]).filter((v): v is number => v !== undefined);
    if (list.length > 0) values.set(m.name, list);
  }
  return values;
}

export function aggregateSet(input: RunSet | FactSet): SetAggregate {
  const set: FactSet = isFactSet(input) ? input : { factsOnly: true, label: input.label, runs: input.runs.map(reportFacts) };
  const outcomes: Partial<Record<OutcomeClass, number>> = {};
  for (const run of set.runs) outcomes[run.outcome] = (outcomes[run.outcome] ?? 0) + 1;
  const metrics: Record<string, Summary> = {};
  for (const m of METRICS) {
    const summary = summarize(set.runs.map((r) => r.metrics[m.name]).filter((v): v is number => v !== undefined));
    if (summary) metrics[m.name] = roundSummary(summary);
  }
  const afterReady = set.runs.flatMap((run, i) => (run.afterReady ? [{ run: i + 1, ...run.afterReady }] : []));
  const causes: Partial<Record<CauseCode, number>> = {};
  for (const run of set.runs) if (run.cause) causes[run.cause] = (causes[run.cause] ?? 0) + 1;
  const explain = medianExplanation(set.runs);
  return {
    label: set.label,
    runs: set.runs.length,
    outcomes,
    metrics,
    ...(afterReady.length ? { afterReady } : {}),
    ...(Object.keys(causes).length > 0 ? { causes } : {}),
    ...(explain ? { explain } : {}),
  };
}

/** The explanation of the run whose time to Ready is the median (the lower middle of an even count). */
function medianExplanation(runs: readonly RunFacts[]): SetAggregate['explain'] {
  const explained = runs.map((t, i) => ({ i, e: t.explain })).filter((x): x is { i: number; e: NonNullable<RunFacts['explain']> } => x.e !== undefined);
  if (explained.length === 0) return undefined;
  const sorted = [...explained].sort((a, b) => a.e.totalMs - b.e.totalMs);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { run: median.i + 1, summary: median.e.summary };
}

/** "2 liveness-probe-kill, 1 oom-killed": the failed runs' causes. */
export function describeCauses(causes: SetAggregate['causes']): string | undefined {
  if (!causes) return undefined;
  return Object.entries(causes)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0) || a[0].localeCompare(b[0]))
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
}

/** "where the time went (run 3, the median): …" for a set of more than one run; the summary alone for one. */
export function describeExplain(set: SetAggregate): string | undefined {
  if (!set.explain) return undefined;
  return set.runs === 1 ? `where the time went: ${set.explain.summary}` : `where the time went (run ${set.explain.run}, the median time to Ready): ${set.explain.summary}`;
}

function afterReadyOf(run: Trace, index: number): AfterReady {
  const o = run.observed!;
  // Sum the containers of each sample, then take the highest: the pod's peak, not the sum of peaks.
  const bySample = new Map<number, { cpu?: number; memory?: number }>();
  for (const s of o.usage.samples) {
    const v = bySample.get(s.offsetMs) ?? {};
    if (s.cpuMillicores !== undefined) v.cpu = (v.cpu ?? 0) + s.cpuMillicores;
    if (s.memoryBytes !== undefined) v.memory = (v.memory ?? 0) + s.memoryBytes;
    bySample.set(s.offsetMs, v);
  }
  const cpu = [...bySample.values()].map((v) => v.cpu).filter((x): x is number => x !== undefined);
  const memory = [...bySample.values()].map((v) => v.memory).filter((x): x is number => x !== undefined);
  return {
    run: index + 1,
    pod: run.pod.name,
    observedMs: o.durationMs,
    restarts: o.restarts.length,
    restartReasons: o.restarts.map((r) => r.reason ?? 'unknown'),
    probeFailures: o.probeFailures.reduce((n, f) => n + f.count, 0),
    ...(cpu.length ? { peakCpuMillicores: Math.round(Math.max(...cpu) * 1000) / 1000 } : {}),
    ...(memory.length ? { peakMemoryBytes: Math.max(...memory) } : {}),
  };
}

/** "12.0 MiB" / "3.4m": an after-Ready row's figures, for the table, markdown and html. */
export function afterReadyCells(a: AfterReady): string[] {
  return [
    `${a.run}`,
    a.pod,
    `${Math.round(a.observedMs / 100) / 10}s`,
    a.restarts === 0 ? '0' : `${a.restarts} (${a.restartReasons.join(', ')})`,
    `${a.probeFailures}`,
    a.peakCpuMillicores !== undefined ? `${a.peakCpuMillicores.toFixed(1)}m` : 'n/a',
    a.peakMemoryBytes !== undefined ? `${(a.peakMemoryBytes / 1048576).toFixed(1)} MiB` : 'n/a',
  ];
}

export const AFTER_READY_HEAD = ['run', 'pod', 'observed', 'restarts', 'probe failures', 'peak CPU', 'peak memory'];

export function aggregate(sets: ReadonlyArray<RunSet | FactSet>, diff?: TraceDiff): ReportAggregate {
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
