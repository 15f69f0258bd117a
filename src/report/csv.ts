/**
 * CSV for spreadsheets and dataframes (RFC 4180 quoting, "\n" line ends),
 * one row per run and metric, then one per run and phase:
 *
 *   set          the input set's label (run set label or file name)
 *   run          1-based run number within the set
 *   pod          the pod's name
 *   metric       kind metric: a METRICS name (ready, pull, ...); step/reported: the phase id;
 *                observed: restart:CONTAINER:REASON exit N or probe-failed:CONTAINER:PROBE (--observe)
 *   kind         metric | step | reported | observed | explain | cause
 *                explain: where the time went (a Ready run), metric explain:STEP, its duration and precision;
 *                cause: a failed run's cause, metric cause:CODE
 *   from, to     step: the milestone ids it lies between; empty otherwise
 *   start_ms     offset of the start from the POST (t0); empty for metrics
 *   duration_ms  milliseconds
 *   source       step: how the end milestone was timed (event-name-ns, watch-observed, ...); empty otherwise
 *   precision_ms step: the interval's uncertainty (the precision of both milestones, added); empty otherwise
 *   outcome      the run's outcome class (ready, image-pull-backoff, ...)
 */
import { METRICS, traceMetrics } from '../analysis/metrics.js';
import type { RunSet } from '../analysis/runset.js';
import type { Trace } from '../trace/types.js';
import { milestoneIndex, stepPrecisionMs } from './run-facts.js';

export const CSV_COLUMNS = [
  'set',
  'run',
  'pod',
  'metric',
  'kind',
  'from',
  'to',
  'start_ms',
  'duration_ms',
  'source',
  'precision_ms',
  'outcome',
] as const;

type Row = Record<(typeof CSV_COLUMNS)[number], string | number | undefined>;

/** Quotes a field when it holds a separator, a quote or a line break. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = typeof value === 'number' ? formatNumber(value) : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Up to nanosecond digits, never an exponent. */
function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  const fixed = n.toFixed(6).replace(/\.?0+$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/** The header line of the csv (without its line break). */
export const CSV_HEADER = CSV_COLUMNS.join(',');

export function renderCsv(sets: readonly RunSet[]): string {
  const lines = [CSV_HEADER];
  for (const set of sets) set.runs.forEach((trace, i) => lines.push(...csvRunLines(set.label, trace, i)));
  return `${lines.join('\n')}\n`;
}

/** The csv lines of run `index` (from 0) of a set: renderCsv is the header, then these, each line ended. */
export function csvRunLines(setLabel: string, trace: Trace, index: number): string[] {
  const lines: string[] = [];
  const push = (row: Row) => lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(','));
  const i = index;
  const base = { set: setLabel, run: i + 1, pod: trace.pod.name, outcome: trace.outcome.class };
  const values = traceMetrics(trace);
  for (const m of METRICS) {
    const v = values[m.name];
    if (v === undefined) continue;
    push({ ...base, metric: m.name, kind: 'metric', from: undefined, to: undefined, start_ms: undefined, duration_ms: v, source: undefined, precision_ms: undefined });
  }
  const milestones = milestoneIndex(trace);
  for (const p of trace.phases) {
    const isStep = p.kind === 'step' && p.from !== undefined && p.to !== undefined;
    push({
      ...base,
      metric: p.id,
      kind: p.kind,
      from: isStep ? p.from : undefined,
      to: isStep ? p.to : undefined,
      start_ms: p.startOffsetMs,
      duration_ms: p.durationMs,
      source: isStep ? milestones.get(p.to!)?.source : undefined,
      precision_ms: isStep ? stepPrecisionMs({ ...p, kind: 'step', from: p.from!, to: p.to! }, milestones) : undefined,
    });
  }
  for (const part of trace.explain?.parts ?? []) {
    push({ ...base, metric: `explain:${part.step}`, kind: 'explain', from: undefined, to: undefined, start_ms: undefined, duration_ms: part.ms, source: undefined, precision_ms: part.precisionMs });
  }
  if (trace.outcome.cause) {
    push({ ...base, metric: `cause:${trace.outcome.cause.code}`, kind: 'cause', from: undefined, to: undefined, start_ms: undefined, duration_ms: undefined, source: undefined, precision_ms: undefined });
  }
  // --observe: each restart and probe failure after Ready, at its time (kind "observed")
  for (const r of trace.observed?.restarts ?? []) {
    const why = [r.reason, r.exitCode !== undefined ? `exit ${r.exitCode}` : undefined].filter(Boolean).join(' ');
    push({ ...base, metric: `restart:${r.container}${why ? `:${why}` : ''}`, kind: 'observed', from: undefined, to: undefined, start_ms: r.offsetMs, duration_ms: undefined, source: r.source, precision_ms: r.precisionMs });
  }
  for (const f of trace.observed?.probeFailures ?? []) {
    push({ ...base, metric: `probe-failed:${f.container}:${f.probe}`, kind: 'observed', from: undefined, to: undefined, start_ms: f.offsetMs, duration_ms: f.lastOffsetMs !== undefined ? f.lastOffsetMs - f.offsetMs : undefined, source: f.source, precision_ms: f.precisionMs });
  }
  return lines;
}
