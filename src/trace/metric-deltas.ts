/**
 * The components' own figures from their Prometheus histograms: how much each
 * histogram's sum and count moved between a reading before the POST and one
 * after (the API server's once the kubelet has reported the pod, 'after-post',
 * in recordings before 2026-12-07 right after the POST's answer; the kubelet's
 * after Ready). A move is this pod's time only when the count moved by exactly this
 * pod's operations (one etcd write of a pod, one RunPodSandbox, one
 * CreateContainer per container ...); otherwise it is shared with the others'
 * and says with how many, and is not used as the step's time. Pure.
 */
import type { Context } from './context.js';
import { roundMs } from './format-ms.js';
import { str } from './kube-objects.js';
import type { Observation } from './observation.js';
import type { MetricStep, MetricsSection } from './section-types.js';
import type { Component } from './types.js';

type Series = Map<string, number>;

interface Reading {
  component: 'apiserver' | 'kubelet';
  node?: string;
  phase: string;
  at: number;
  series: Series;
}

/** `name{labels} value` lines into series, keyed by `name{labels}` as written. */
export function parseMetricLines(lines: readonly unknown[]): Series {
  const out: Series = new Map();
  for (const line of lines) {
    if (typeof line !== 'string') continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (space > 0 && Number.isFinite(value)) out.set(line.slice(0, space), value);
  }
  return out;
}

function readings(observations: readonly Observation[]): { readings: Reading[]; errors: string[] } {
  const out: Reading[] = [];
  const errors: string[] = [];
  for (const o of observations) {
    if (o.source !== 'client' || o.type !== 'metrics-sample') continue;
    const d = o.data ?? {};
    const component = d['component'] === 'kubelet' ? 'kubelet' : 'apiserver';
    if (typeof d['error'] === 'string') {
      errors.push(`${component}${d['node'] ? ` ${String(d['node'])}` : ''} (${String(d['phase'])}): ${d['error']}`);
      continue;
    }
    out.push({ component, ...(str(d['node']) ? { node: str(d['node'])! } : {}), phase: String(d['phase']), at: o.observedAt, series: parseMetricLines(Array.isArray(d['lines']) ? d['lines'] : []) });
  }
  return { readings: out, errors };
}

interface Wanted {
  id: string;
  label: string;
  component: Component;
  /** The `_count` series (its `_sum` is the same key with _sum). */
  series: string;
  expected: number;
}

const RUNTIME = (op: string) => `kubelet_runtime_operations_duration_seconds_count{operation_type="${op}"}`;

/**
 * The components' figures the metrics section can give (webhooks aside: one
 * each, found by what moved), with the component whose /metrics has them and
 * how many of this pod's operations a count that is this pod's own moves by:
 * one, or one per kubelet event of that reason (a pull, a container created
 * or started).
 */
export const METRIC_STEPS: ReadonlyArray<Omit<Wanted, 'expected'> & { from: 'apiserver' | 'kubelet'; per: 'pod' | 'Pulling' | 'Created' | 'Started' }> = [
  { id: 'apiserver.post', label: 'API server handles the POST (request duration)', component: 'apiserver', from: 'apiserver', per: 'pod', series: 'apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"}' },
  { id: 'apiserver.etcd-write', label: 'etcd write of the pod', component: 'apiserver', from: 'apiserver', per: 'pod', series: 'etcd_request_duration_seconds_count{group="",operation="create",resource="pods"}' },
  { id: 'apiserver.admission-admit', label: 'admission, mutating (all plugins and webhooks)', component: 'apiserver', from: 'apiserver', per: 'pod', series: 'apiserver_admission_step_admission_duration_seconds_count{operation="CREATE",rejected="false",type="admit"}' },
  { id: 'apiserver.admission-validate', label: 'admission, validating (all plugins and webhooks)', component: 'apiserver', from: 'apiserver', per: 'pod', series: 'apiserver_admission_step_admission_duration_seconds_count{operation="CREATE",rejected="false",type="validate"}' },
  { id: 'kubelet.run-pod-sandbox', label: 'RunPodSandbox (sandbox and network)', component: 'runtime', from: 'kubelet', per: 'pod', series: RUNTIME('run_podsandbox') },
  { id: 'kubelet.pull-image', label: 'PullImage', component: 'runtime', from: 'kubelet', per: 'Pulling', series: RUNTIME('pull_image') },
  { id: 'kubelet.create-container', label: 'CreateContainer', component: 'runtime', from: 'kubelet', per: 'Created', series: RUNTIME('create_container') },
  { id: 'kubelet.start-container', label: 'StartContainer', component: 'runtime', from: 'kubelet', per: 'Started', series: RUNTIME('start_container') },
  { id: 'kubelet.pod-cgroup', label: 'pod cgroup created (cgroup manager)', component: 'kubelet', from: 'kubelet', per: 'pod', series: 'kubelet_cgroup_manager_duration_seconds_count{operation_type="create"}' },
  { id: 'kubelet.pod-worker-create', label: "kubelet's first sync of the pod (pod worker, create)", component: 'kubelet', from: 'kubelet', per: 'pod', series: 'kubelet_pod_worker_duration_seconds_count{operation_type="create"}' },
  { id: 'kubelet.pod-start-sli', label: "kubelet's pod start SLI (its own figure, pulls excluded)", component: 'kubelet', from: 'kubelet', per: 'pod', series: 'kubelet_pod_start_sli_duration_seconds_count' },
];

/** The histogram family a step's count series belongs to. */
export function metricFamily(series: string): string {
  return series.replace(/_count(\{.*)?$/, '');
}

function wantedOf(step: (typeof METRIC_STEPS)[number], expected: number): Wanted {
  const { id, label, component, series } = step;
  return { id, label, component, series, expected };
}

function apiserverWanted(): Wanted[] {
  return METRIC_STEPS.filter((s) => s.from === 'apiserver').map((s) => wantedOf(s, 1));
}

/** Each admission webhook that the POST moved, one step each: they only see what their rules match. */
function webhookWanted(before: Series, after: Series): Wanted[] {
  return [...after.keys()]
    .filter((k) => k.startsWith('apiserver_admission_webhook_admission_duration_seconds_count{') && k.includes('operation="CREATE"') && (after.get(k) ?? 0) > (before.get(k) ?? 0))
    .map((k) => {
      const name = /name="([^"]*)"/.exec(k)?.[1] ?? '?';
      const kind = k.includes('type="admit"') ? 'mutating' : 'validating';
      return { id: `apiserver.webhook.${name}`, label: `admission: ${kind} webhook ${name}`, component: 'apiserver' as const, series: k, expected: 1 };
    });
}

/** What the kubelet did for this pod, counted from its own events: how many pulls, creates and starts. */
function kubeletWanted(ctx: Context): Wanted[] {
  const count = (reason: string) => ctx.podEvents.filter((e) => e.reason === reason && e.component === 'kubelet').reduce((n, e) => n + e.count, 0);
  return METRIC_STEPS.filter((s) => s.from === 'kubelet')
    .map((s) => wantedOf(s, s.per === 'pod' ? 1 : count(s.per)))
    .filter((w) => w.expected > 0);
}

function delta(w: Wanted, before: Reading, after: Reading): MetricStep | undefined {
  const sum = w.series.replace(/_count(\{|$)/, '_sum$1');
  const b = before.series.get(w.series) ?? 0;
  const a = after.series.get(w.series);
  if (a === undefined) return undefined;
  const count = a - b;
  if (count <= 0) return undefined;
  const sumMs = roundMs(((after.series.get(sum) ?? 0) - (before.series.get(sum) ?? 0)) * 1000);
  const exact = count === w.expected;
  return {
    id: w.id,
    label: w.label,
    component: w.component,
    metric: w.series.replace(/_count(\{|$)/, '$1'),
    count,
    expected: w.expected,
    sumMs,
    exact,
    ...(exact ? { durationMs: sumMs } : { sharedWith: count - w.expected }),
    from: before.phase,
    to: after.phase,
  };
}

export function metricsSection(ctx: Context): { metrics?: MetricsSection } {
  const { readings: all, errors } = readings(ctx.observations);
  if (all.length === 0 && errors.length === 0) return {};
  const find = (component: string, phase: string, node?: string) => all.find((r) => r.component === component && r.phase === phase && (node === undefined || r.node === node));
  const steps: MetricStep[] = [];
  const notes = errors.map((e) => `not read: ${e}`);
  const postSent = ctx.postSentAt;
  const apiBefore = find('apiserver', 'before');
  const apiAfter = find('apiserver', 'after-post') ?? find('apiserver', 'after');
  if (apiBefore && apiAfter) {
    for (const w of [...apiserverWanted(), ...webhookWanted(apiBefore.series, apiAfter.series)]) {
      const s = delta(w, apiBefore, apiAfter);
      if (s) steps.push(s);
    }
    if (postSent !== undefined && !steps.some((s) => s.id === 'apiserver.etcd-write')) {
      notes.push("the API server's counts did not move for the pod's etcd write: its reading 'before' was taken after the POST");
    }
  }
  const node = ctx.latestPod?.spec?.nodeName;
  const kBefore = node ? find('kubelet', 'before', node) : undefined;
  const kAfter = node ? find('kubelet', 'after', node) : undefined;
  if (kBefore && kAfter) {
    for (const w of kubeletWanted(ctx)) {
      const s = delta(w, kBefore, kAfter);
      if (s) steps.push(s);
    }
  } else if (node && kAfter && !kBefore) {
    notes.push(`the kubelet of ${node} was not read before the POST (a cluster of many nodes): no delta`);
  }
  if (steps.some((s) => !s.exact)) {
    notes.push('a figure shared with other operations (other pods, the scheduler\'s binding, events) is their total, not this pod\'s: left out of the steps');
  }
  return { metrics: { steps, notes } };
}
