/**
 * Named durations that mean the same thing in every trace, so runs can be
 * compared, aggregated and gated on (`--fail-on ready>5s,pull>2s`,
 * `--threshold pull=1s`). Step phases ('from->to') follow time order and
 * differ between runs; these do not. Pure.
 */
import type { ContainerInfo, Milestone, Trace } from '../trace/types.js';

export interface MetricSpec {
  /** Short name used on the command line and as a column/key in reports. */
  name: string;
  label: string;
  description: string;
  compute: (trace: Trace) => number | undefined;
  /**
   * How far the value may be from the truth: the sum of the precisions of its two ends (the
   * milestones it is measured between); for a component's own figure, the resolution it is given in.
   */
  precision: (trace: Trace) => number | undefined;
}

function at(trace: Trace, id: string): number | undefined {
  return trace.milestones.find((m) => m.id === id)?.at;
}

function precisionBetween(trace: Trace, from: string | undefined, to: string | undefined): number | undefined {
  const a = from === undefined ? undefined : trace.milestones.find((m) => m.id === from);
  const b = to === undefined ? undefined : trace.milestones.find((m) => m.id === to);
  return a === undefined || b === undefined ? undefined : a.precisionMs + b.precisionMs;
}

/** The kubelet's pull figure is printed in ms ("in 1.234s"): half a ms either way, per pulled container; else its events'. */
function pullPrecision(trace: Trace): number | undefined {
  let total = 0;
  for (const c of trace.containers) {
    if (c.pull === 'present') continue;
    if (c.pullMs !== undefined) total += 0.5;
    else total += precisionBetween(trace, `container.${c.name}.pulling`, `container.${c.name}.pulled`) ?? 0;
  }
  return total;
}

function startPrecision(trace: Trace): number | undefined {
  const first = appContainers(trace)[0];
  if (!first) return undefined;
  const image = containerMilestone(trace, first.name, 'pulled', 'image-present');
  return precisionBetween(trace, image?.id, containerMilestone(trace, first.name, 'started')?.id);
}

function readinessPrecision(trace: Trace): number | undefined {
  const started = appContainers(trace)
    .map((c) => containerMilestone(trace, c.name, 'started'))
    .filter((m): m is Milestone => m !== undefined)
    .reduce<Milestone | undefined>((a, b) => (a === undefined || b.at > a.at ? b : a), undefined);
  return precisionBetween(trace, started?.id, 'pod.ready');
}

function between(trace: Trace, from: string, to: string): number | undefined {
  const a = at(trace, from);
  const b = at(trace, to);
  return a === undefined || b === undefined ? undefined : Math.max(0, b - a);
}

function appContainers(trace: Trace): ContainerInfo[] {
  return trace.containers.filter((c) => c.kind !== 'init');
}

function containerMilestone(trace: Trace, container: string, ...suffixes: string[]): Milestone | undefined {
  for (const suffix of suffixes) {
    const m = trace.milestones.find((x) => x.id === `container.${container}.${suffix}`);
    if (m) return m;
  }
  return undefined;
}

/** Image pull time summed over the pod's containers: the kubelet's own figure, else the Pulling→Pulled interval; 0 when present. */
function pullMs(trace: Trace): number | undefined {
  let total = 0;
  let known = false;
  for (const c of trace.containers) {
    if (c.pull === 'present') {
      known = true;
      continue;
    }
    const ms = c.pullMs ?? between(trace, `container.${c.name}.pulling`, `container.${c.name}.pulled`);
    if (ms === undefined) continue;
    total += ms;
    known = true;
  }
  return known ? total : undefined;
}

/** From the first app container's image being ready (pulled or present) to its start. */
function startMs(trace: Trace): number | undefined {
  const first = appContainers(trace)[0];
  if (!first) return undefined;
  const image = containerMilestone(trace, first.name, 'pulled', 'image-present');
  const started = containerMilestone(trace, first.name, 'started');
  return image && started ? Math.max(0, started.at - image.at) : undefined;
}

/** From the last app container's start to the pod's Ready condition: probes and status reporting. */
function readinessMs(trace: Trace): number | undefined {
  const starts = appContainers(trace)
    .map((c) => containerMilestone(trace, c.name, 'started')?.at)
    .filter((x): x is number => x !== undefined);
  const ready = at(trace, 'pod.ready');
  return starts.length === 0 || ready === undefined ? undefined : Math.max(0, ready - Math.max(...starts));
}

export const METRICS: readonly MetricSpec[] = [
  {
    name: 'client',
    label: 'client before the POST',
    description: 'kubeconfig, credentials, identity and access reviews, until the POST is sent',
    compute: (t) => between(t, 'client.kubeconfig', 'api.post-sent'),
    precision: (t) => precisionBetween(t, 'client.kubeconfig', 'api.post-sent'),
  },
  {
    name: 'api',
    label: 'API server accepted',
    description: 'POST sent to the stored pod: authentication, authorization, admission, validation, etcd',
    compute: (t) => between(t, 'api.post-sent', 'api.accepted'),
    precision: (t) => precisionBetween(t, 'api.post-sent', 'api.accepted'),
  },
  {
    name: 'schedule',
    label: 'scheduling',
    description: 'stored to Scheduled (the scheduler’s eventTime)',
    compute: (t) => between(t, 'api.accepted', 'scheduler.scheduled'),
    precision: (t) => precisionBetween(t, 'api.accepted', 'scheduler.scheduled'),
  },
  {
    name: 'kubelet',
    label: 'kubelet pickup',
    description: 'Scheduled to the kubelet acknowledging the pod (status.startTime)',
    compute: (t) => between(t, 'scheduler.scheduled', 'kubelet.acknowledged'),
    precision: (t) => precisionBetween(t, 'scheduler.scheduled', 'kubelet.acknowledged'),
  },
  {
    name: 'sandbox',
    label: 'sandbox and network',
    description: 'kubelet acknowledged to PodReadyToStartContainers (pause container, CNI)',
    compute: (t) => between(t, 'kubelet.acknowledged', 'runtime.sandbox-ready'),
    precision: (t) => precisionBetween(t, 'kubelet.acknowledged', 'runtime.sandbox-ready'),
  },
  {
    name: 'pull',
    label: 'image pull',
    description: 'image pull time over all containers (the kubelet’s figure); 0 when already present',
    compute: pullMs,
    precision: pullPrecision,
  },
  {
    name: 'start',
    label: 'container start',
    description: 'first app container: image ready to Started (create + start in the runtime)',
    compute: startMs,
    precision: startPrecision,
  },
  {
    name: 'readiness',
    label: 'readiness',
    description: 'last app container Started to the pod Ready condition (probes, status updates)',
    compute: readinessMs,
    precision: readinessPrecision,
  },
  {
    name: 'ready',
    label: 'POST to Ready',
    description: 'the whole start: POST sent to the pod Ready condition (watch, inspect: from the pod stored)',
    compute: (t) => between(t, 'api.post-sent', 'pod.ready') ?? (t.run.mode !== undefined ? between(t, 'api.accepted', 'pod.ready') : undefined),
    precision: (t) => precisionBetween(t, 'api.post-sent', 'pod.ready') ?? (t.run.mode !== undefined ? precisionBetween(t, 'api.accepted', 'pod.ready') : undefined),
  },
  {
    name: 'teardown',
    label: 'teardown',
    description: 'DELETE sent to the pod gone from the API',
    compute: (t) => between(t, 'teardown.delete-sent', 'teardown.pod-gone'),
    precision: (t) => precisionBetween(t, 'teardown.delete-sent', 'teardown.pod-gone'),
  },
];

export const METRIC_NAMES: readonly string[] = METRICS.map((m) => m.name);

/** Every metric the trace has a value for, in METRICS order. */
export function traceMetrics(trace: Trace): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of METRICS) {
    const v = m.compute(trace);
    if (v !== undefined && Number.isFinite(v)) out[m.name] = v;
  }
  return out;
}

/** The precision of every metric the trace has a value for (MetricSpec.precision). */
export function traceMetricPrecisions(trace: Trace): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of METRICS) {
    if (m.compute(trace) === undefined) continue;
    const p = m.precision(trace);
    if (p !== undefined && Number.isFinite(p)) out[m.name] = p;
  }
  return out;
}
