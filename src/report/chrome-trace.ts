/**
 * Trace Event Format (JSON object form), for Perfetto (ui.perfetto.dev) and
 * chrome://tracing: one process per run (named after the pod), one thread
 * per component, a complete event ('X') per step and an instant event ('i')
 * per milestone, with the time source and precision in args.
 *
 * Times are integer microseconds. Every run is aligned on its own POST,
 * which sits at `otherData.postTs` for all of them: the steps before the
 * POST (kubeconfig, credentials, access reviews) keep positive timestamps,
 * which Perfetto requires. Both ends of a step are rounded on their own, so
 * consecutive steps on a track never overlap by a rounding error.
 */
import type { RunSet } from '../analysis/runset.js';
import type { Component, Trace } from '../trace/types.js';
import { failingStep, milestoneIndex, runName, steps } from './run-facts.js';

/** Tracks in the order of the request's path. */
export const COMPONENT_TID: Readonly<Record<Component, number>> = {
  client: 1,
  apiserver: 2,
  scheduler: 3,
  kubelet: 4,
  runtime: 5,
  node: 6,
  'controller-manager': 7,
  'kube-proxy': 8,
  dns: 9,
};

export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'M' | 'C';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  /** Instant event scope: thread, process. */
  s?: 't' | 'p';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: { tool: 'podtrace'; toolVersion: string; postTs: number; alignment: string };
}

const us = (ms: number) => Math.round(ms * 1000);

/** How long before its POST a run began, in µs; the largest over the runs is the shared position of every POST. */
export function runLeadUs(t: Trace): number {
  let lead = 0;
  for (const m of t.milestones) lead = Math.max(lead, -us(m.offsetMs));
  for (const p of t.phases) if (p.kind === 'step') lead = Math.max(lead, -us(p.startOffsetMs));
  return lead;
}

function stepName(label: string, container: string | undefined): string {
  return container ? `${container}: ${label}` : label;
}

/**
 * One run's events: its process (pid), a thread per component, its steps, milestones, what
 * --observe saw and its outcome, placed so that its POST is at `postTs`.
 */
export function chromeTraceRunEvents(set: Pick<RunSet, 'label'>, trace: Trace, pid: number, postTs: number, multipleSets: boolean): TraceEvent[] {
  const at = (offsetMs: number) => postTs + us(offsetMs);
  const events: TraceEvent[] = [];
  events.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: runName(set, trace, multipleSets) } });
  events.push({ name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid } });
  events.push({
    name: 'process_labels',
    ph: 'M',
    pid,
    tid: 0,
    args: {
      labels: [set.label, trace.outcome.class, trace.outcome.cause?.code, trace.pod.nodeName].filter(Boolean).join(', '),
      ...(trace.explain ? { explain: trace.explain.summary } : {}),
      ...(trace.outcome.cause ? { cause: trace.outcome.cause.chain.join(' ← ') } : {}),
    },
  });

  const milestones = milestoneIndex(trace);
  const runSteps = steps(trace);
  const components = new Set<Component>([...trace.milestones.map((m) => m.component), ...runSteps.map((s) => s.component ?? 'node')]);
  for (const c of Object.keys(COMPONENT_TID) as Component[]) {
    if (!components.has(c)) continue;
    events.push({ name: 'thread_name', ph: 'M', pid, tid: COMPONENT_TID[c], args: { name: c } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid, tid: COMPONENT_TID[c], args: { sort_index: COMPONENT_TID[c] } });
  }

  const failing = failingStep(trace);
  for (const step of runSteps) {
    const from = milestones.get(step.from)!;
    const to = milestones.get(step.to)!;
    const ts = at(from.offsetMs);
    const component = step.component ?? to.component;
    events.push({
      name: stepName(step.label, step.container),
      cat: component,
      ph: 'X',
      pid,
      tid: COMPONENT_TID[component],
      ts,
      dur: Math.max(0, at(to.offsetMs) - ts),
      args: {
        step: step.id,
        from: step.from,
        to: step.to,
        durationMs: step.durationMs,
        source: to.source,
        fromSource: from.source,
        precisionMs: from.precisionMs + to.precisionMs,
        ...(step.container ? { container: step.container } : {}),
        ...(failing?.id === step.id ? { failed: trace.outcome.class } : {}),
      },
    });
  }

  for (const m of trace.milestones) {
    events.push({
      name: m.label,
      cat: 'milestone',
      ph: 'i',
      s: 't',
      pid,
      tid: COMPONENT_TID[m.component],
      ts: at(m.offsetMs),
      args: {
        id: m.id,
        offsetMs: m.offsetMs,
        source: m.source,
        precisionMs: m.precisionMs,
        ...(m.detail ? { detail: m.detail } : {}),
        ...(m.fallback ? { fallback: m.fallback } : {}),
      },
    });
  }

  // --observe: restarts and probe failures as instants on the kubelet's track, usage as counters
  for (const r of trace.observed?.restarts ?? []) {
    events.push({
      name: `restart ${r.container}${r.reason ? `: ${r.reason}` : ''}`,
      cat: 'observed',
      ph: 'i',
      s: 't',
      pid,
      tid: COMPONENT_TID.kubelet,
      ts: at(r.offsetMs),
      args: { container: r.container, restartCount: r.restartCount, ...(r.reason ? { reason: r.reason } : {}), ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), source: r.source, precisionMs: r.precisionMs },
    });
  }
  for (const f of trace.observed?.probeFailures ?? []) {
    events.push({
      name: `${f.probe} probe failed: ${f.container}`,
      cat: 'observed',
      ph: 'i',
      s: 't',
      pid,
      tid: COMPONENT_TID.kubelet,
      ts: at(f.offsetMs),
      args: { container: f.container, count: f.count, message: f.message },
    });
  }
  for (const u of trace.observed?.usage.samples ?? []) {
    const args: Record<string, number> = {};
    if (u.cpuMillicores !== undefined) args['cpu millicores'] = u.cpuMillicores;
    if (u.memoryBytes !== undefined) args['memory MiB'] = Math.round((u.memoryBytes / 1048576) * 100) / 100;
    events.push({ name: `usage ${u.container}`, cat: 'observed', ph: 'C', pid, tid: 0, ts: at(u.offsetMs), args });
  }

  const o = trace.outcome;
  const lastMs = Math.max(0, ...trace.milestones.map((m) => m.offsetMs));
  events.push({
    name: `outcome: ${o.class}`,
    cat: 'outcome',
    ph: 'i',
    s: 'p',
    pid,
    tid: 0,
    ts: at(o.readyAfterMs ?? lastMs),
    args: { class: o.class, ...(o.reason ? { reason: o.reason } : {}), ...(o.message ? { message: o.message } : {}), ...(o.hint ? { hint: o.hint } : {}) },
  });
  return events;
}

/** What follows the events: the fields after `traceEvents`, in their order. */
function chromeTraceTail(toolVersion: string, postTs: number): Omit<ChromeTrace, 'traceEvents'> {
  return {
    displayTimeUnit: 'ms',
    otherData: { tool: 'podtrace', toolVersion, postTs, alignment: 'every run is aligned on its own POST, at ts = postTs (µs)' },
  };
}

export function chromeTrace(sets: readonly RunSet[], toolVersion: string): ChromeTrace {
  const multipleSets = sets.length > 1;
  const runs = sets.flatMap((set) => set.runs.map((trace) => ({ set, trace })));
  const postTs = runs.reduce((lead, r) => Math.max(lead, runLeadUs(r.trace)), 0);
  const events = runs.flatMap(({ set, trace }, index) => chromeTraceRunEvents(set, trace, index + 1, postTs, multipleSets));
  return { traceEvents: events, ...chromeTraceTail(toolVersion, postTs) };
}

/**
 * The same JSON a piece at a time, for run sets too big to hold: the opening, each run's events
 * (with a comma before all but the first run's), the closing with `postTs`, which must be known first.
 */
export const chromeTraceStream = {
  start: '{"traceEvents":[',
  run(set: Pick<RunSet, 'label'>, trace: Trace, pid: number, postTs: number, multipleSets: boolean): string {
    const text = chromeTraceRunEvents(set, trace, pid, postTs, multipleSets)
      .map((e) => JSON.stringify(e))
      .join(',');
    return pid > 1 ? `,${text}` : text;
  },
  end(toolVersion: string, postTs: number): string {
    return `],${JSON.stringify(chromeTraceTail(toolVersion, postTs)).slice(1)}\n`;
  },
};

export function renderChromeTrace(sets: readonly RunSet[], toolVersion: string): string {
  return `${JSON.stringify(chromeTrace(sets, toolVersion))}\n`;
}
