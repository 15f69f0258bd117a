/**
 * What several export formats read from a trace the same way: its steps,
 * the step a failed run stopped in, the facts a report header shows.
 */
import type { RunSet } from '../analysis/runset.js';
import { formatMs, formatOffset } from '../trace/format-ms.js';
import type { Gap, Milestone, Phase, Trace } from '../trace/types.js';

export type Step = Phase & { kind: 'step'; from: string; to: string };

/** Phases between two milestones the trace has, in time order. */
export function steps(trace: Trace): Step[] {
  const ids = new Set(trace.milestones.map((m) => m.id));
  return trace.phases.filter((p): p is Step => p.kind === 'step' && p.from !== undefined && p.to !== undefined && ids.has(p.from) && ids.has(p.to));
}

export function milestoneIndex(trace: Trace): Map<string, Milestone> {
  return new Map(trace.milestones.map((m) => [m.id, m]));
}

/** Milestones that record something going wrong (the kubelet's own reasons). */
const FAILURE_MILESTONE = /\.(pull-failed|pull-back-off|exited|crash-loop-back-off|readiness-failed)$/;

export function failed(trace: Trace): boolean {
  return trace.outcome.class !== 'ready' && trace.outcome.class !== 'in-progress';
}

/**
 * The step a failed run went wrong in: the first step that ends in a failure
 * milestone (image pull failed, container exited, ...); else the step the pod
 * was stuck in before the teardown began (e.g. never created: a config error).
 * Undefined when the run succeeded, or when it failed before any step after
 * the POST (a rejected POST: the whole run is the failure).
 */
export function failingStep(trace: Trace): Step | undefined {
  if (!failed(trace)) return undefined;
  const all = steps(trace);
  const first = all.find((s) => FAILURE_MILESTONE.test(s.to));
  if (first) return first;
  const stuck = all.find((s) => !s.from.startsWith('teardown.') && s.to.startsWith('teardown.'));
  if (stuck && stuck.startOffsetMs >= 0) return stuck;
  return undefined;
}

/** The step's time uncertainty: both ends' precision. */
export function stepPrecisionMs(step: Step, milestones: ReadonlyMap<string, Milestone>): number | undefined {
  const a = milestones.get(step.from);
  const b = milestones.get(step.to);
  return a && b ? a.precisionMs + b.precisionMs : undefined;
}

/** The label of the milestone a step ends at (as in the table); reported phases keep their own. */
export function phaseLabel(p: Phase, milestones: ReadonlyMap<string, Milestone>): string {
  if (p.kind === 'reported') return p.label;
  return milestones.get(p.to ?? '')?.label ?? p.label;
}

export interface Fact {
  name: string;
  values: string[];
}

/** Environment facts of the runs, each with its distinct values (so mixed sets show it). Never credentials. */
const ENVIRONMENT: Array<[string, (t: Trace) => string | undefined]> = [
  ['context', (t) => t.cluster?.context],
  ['server version', (t) => t.cluster?.serverVersion],
  ['platform', (t) => t.cluster?.platform],
  ['node', (t) => t.node?.name ?? t.pod.nodeName],
  ['kubelet', (t) => t.node?.kubeletVersion],
  ['runtime', (t) => t.node?.containerRuntimeVersion],
  ['os', (t) => t.node?.osImage],
  ['kernel', (t) => t.node?.kernelVersion],
  ['arch', (t) => t.node?.architecture],
  ['namespace', (t) => t.pod.namespace],
  ['images', (t) => (t.pod.images.length ? [...new Set(t.pod.images)].join(', ') : undefined)],
  ['podtrace', (t) => t.toolVersion],
];

/** environmentFacts() a run at a time, for run sets read one run at a time. */
export class EnvironmentFacts {
  readonly #values = ENVIRONMENT.map(() => new Set<string>());

  add(trace: Trace): void {
    ENVIRONMENT.forEach(([, get], i) => {
      const v = get(trace);
      if (v !== undefined && v !== '') this.#values[i]!.add(v);
    });
  }

  facts(): Fact[] {
    return ENVIRONMENT.map(([name], i) => ({ name, values: [...this.#values[i]!] })).filter((f) => f.values.length > 0);
  }
}

export function environmentFacts(sets: readonly RunSet[]): Fact[] {
  const env = new EnvironmentFacts();
  for (const set of sets) for (const run of set.runs) env.add(run);
  return env.facts();
}

/** The run's time span on the client timeline (ms since epoch): earliest start to latest end of its milestones and phases. */
export function runSpan(trace: Trace): { start: number; end: number } {
  const t0 = trace.run.t0;
  let start = t0;
  let end = t0;
  for (const m of trace.milestones) {
    start = Math.min(start, m.at);
    end = Math.max(end, m.at);
  }
  for (const p of trace.phases) {
    start = Math.min(start, t0 + p.startOffsetMs);
    end = Math.max(end, t0 + p.startOffsetMs + p.durationMs);
  }
  return { start, end };
}

/** Labels that tell runs apart when several sets are shown together. */
export function runName(set: Pick<RunSet, 'label'>, trace: Trace, multipleSets: boolean): string {
  return multipleSets ? `${set.label}: ${trace.pod.name}` : trace.pod.name;
}

/** "pod watch gap of 270ms at +1.49s (error)", or "until the end" for a watch that never came back. */
export function gapSummary(g: Gap): string {
  return `${g.watch} watch gap ${g.unresolved ? 'until the end' : `of ${formatMs(g.durationMs)}`} at ${formatOffset(g.fromOffsetMs)} (${g.reason})`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/**
 * --observe / --logs, as plain lines (the table paints them, HTML escapes
 * them, markdown lists them): the window, each restart and why, probe
 * failures, peak usage per container, then the logs.
 */
export function observedLines(o: NonNullable<Trace['observed']>): { summary: string[]; logs: Array<{ heading: string; lines: string[] }> } {
  const summary: string[] = [];
  if (o.requestedMs > 0) {
    const short = o.durationMs + 1000 < o.requestedMs ? ` (asked ${formatMs(o.requestedMs)}: cut short)` : '';
    summary.push(`after Ready: observed ${formatMs(o.durationMs)} from ${formatOffset(o.fromOffsetMs)}${short}`);
    summary.push(
      o.restarts.length === 0
        ? '  restarts: none'
        : `  restarts: ${o.restarts
            .map((r) => `${r.container} at ${formatOffset(r.offsetMs)}${r.reason ? ` ${r.reason}` : ''}${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ''}, restart #${r.restartCount}`)
            .join('; ')}`,
    );
    summary.push(
      o.probeFailures.length === 0
        ? '  probe failures: none'
        : `  probe failures: ${o.probeFailures.map((f) => `${f.container} ${f.probe} ${f.count}× from ${formatOffset(f.offsetMs)}: ${f.message}`).join('; ')}`,
    );
    if (o.usage.peak.length > 0) {
      const from = o.usage.source === 'metrics-api' ? 'metrics.k8s.io' : 'kubelet stats summary';
      const peaks = o.usage.peak.map(
        (p) => `${p.container} ${p.cpuMillicores !== undefined ? `${p.cpuMillicores.toFixed(1)}m CPU` : 'CPU n/a'}, ${p.memoryBytes !== undefined ? mib(p.memoryBytes) : 'memory n/a'}`,
      );
      summary.push(`  peak usage (${from}, ${o.usage.samples.length} samples): ${peaks.join('; ')}`);
    } else {
      summary.push(`  usage: ${o.usage.error ?? 'no samples'}`);
    }
  }
  const logs = (o.logs ?? []).map((l) => ({
    heading: l.error ? `log of ${l.container}: ${l.error}` : `log of ${l.container} (first ${l.lines.length} line${l.lines.length === 1 ? '' : 's'}${l.truncated ? ', more follow' : ''})`,
    lines: l.lines,
  }));
  return { summary, logs };
}
