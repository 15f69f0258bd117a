/**
 * What diff, the report's aggregates and the gates take of a run, and nothing more: its outcome,
 * metric values and their precisions, the facts diff compares (image, node, versions...), its
 * admission changes, its cause, its explanation and what --observe saw. A big run set is read as
 * these, a run at a time, instead of as whole traces (report and diff of 10,000 runs). Pure.
 */
import type { CauseCode, OutcomeClass, Trace } from '../trace/types.js';
import { traceMetricPrecisions, traceMetrics } from './metrics.js';
import type { RunSet } from './runset.js';

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function isScalar(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/** What admission/defaulting did, without the values that are random per run (generated names live in objects). */
function admissionKeys(trace: Trace): string[] {
  return trace.admission.changes.map((c) => {
    if (c.op === 'changed' && isScalar(c.before) && isScalar(c.after)) return `${c.path} changed ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`;
    const value = c.op === 'added' ? c.after : c.before;
    return `${c.path} ${c.op}${isScalar(value) ? ` ${JSON.stringify(value)}` : ''}`;
  });
}

type Fact = (trace: Trace) => Array<string | undefined>;

export const FACTS: ReadonlyArray<[string, Fact]> = [
  ['outcome', (t) => [t.outcome.class]],
  ['server version', (t) => [t.cluster?.serverVersion]],
  ['node', (t) => [t.node?.name ?? t.pod.nodeName]],
  ['kubeletVersion', (t) => [t.node?.kubeletVersion]],
  ['containerRuntimeVersion', (t) => [t.node?.containerRuntimeVersion]],
  ['image', (t) => t.containers.map((c) => `${c.name}: ${c.image}`)],
  ['image digest', (t) => t.containers.map((c) => (c.imageID ? `${c.name}: ${c.imageID.replace(/^.*@/, '')}` : undefined))],
  ['image size', (t) => t.containers.map((c) => (c.imageSizeBytes !== undefined ? `${c.name}: ${megabytes(c.imageSizeBytes)}` : undefined))],
  ['pull', (t) => t.containers.map((c) => `${c.name}: ${c.pull}`)],
  ['qosClass', (t) => [t.pod.qosClass]],
  ['init containers', (t) => [String(t.containers.filter((c) => c.kind === 'init').length)]],
  ['readiness probe', (t) => t.containers.filter((c) => c.kind !== 'init').map((c) => `${c.name}: ${c.readinessProbe ?? 'none'}`)],
  ['postStart hooks', (t) => t.containers.map((c) => (c.postStart ? `${c.name}: ${c.postStart}` : undefined))],
];

/** What diff compares of a run besides its metrics: its facts (FACTS order) and its admission changes. */
export interface RunContext {
  facts: Array<Array<string | undefined>>;
  admission: string[];
}

export function runContext(trace: Trace): RunContext {
  return { facts: FACTS.map(([, fact]) => fact(trace)), admission: admissionKeys(trace) };
}

/** What --observe saw after Ready, summed up per run (the report's afterReady rows). */
export interface AfterReady {
  run: number;
  pod: string;
  observedMs: number;
  restarts: number;
  /** Why containers restarted, e.g. ["OOMKilled"], in order. */
  restartReasons: string[];
  probeFailures: number;
  /** Highest sample over the pod's containers (summed per sample). */
  peakCpuMillicores?: number;
  peakMemoryBytes?: number;
}

export interface RunFacts extends RunContext {
  outcome: OutcomeClass;
  /** The node the pod ran on, or the one it was pinned to (splitByNode's key). */
  node: string;
  startedAt: number;
  metrics: Record<string, number>;
  precisions: Record<string, number>;
  cause?: CauseCode;
  explain?: { totalMs: number; summary: string };
  /** --observe's window, summed up (its run number is set by the set's order). */
  afterReady?: Omit<AfterReady, 'run'>;
}

/** A run set as RunFacts: what report and diff keep of each run of a big set. */
export interface FactSet {
  factsOnly: true;
  label: string;
  groupBy?: 'node';
  runs: RunFacts[];
}

export function runFacts(trace: Trace, afterReady?: (t: Trace) => Omit<AfterReady, 'run'>): RunFacts {
  return {
    ...runContext(trace),
    outcome: trace.outcome.class,
    node: trace.node?.name ?? trace.run.options.node ?? '(no node)',
    startedAt: trace.run.startedAt,
    metrics: traceMetrics(trace),
    precisions: traceMetricPrecisions(trace),
    ...(trace.outcome.cause ? { cause: trace.outcome.cause.code } : {}),
    ...(trace.explain ? { explain: { totalMs: trace.explain.totalMs, summary: trace.explain.summary } } : {}),
    ...(trace.observed && afterReady ? { afterReady: afterReady(trace) } : {}),
  };
}

export function isFactSet(set: RunSet | FactSet): set is FactSet {
  return (set as FactSet).factsOnly === true;
}

export function factSetOf(set: RunSet | FactSet): FactSet {
  if (isFactSet(set)) return set;
  return { factsOnly: true, label: set.label, ...(set.groupBy ? { groupBy: set.groupBy } : {}), runs: set.runs.map((t) => runFacts(t)) };
}
