/**
 * The node section: the node's versions and conditions at the start, their
 * changes and the node's events during the run, and the pod's requests
 * beside the node's allocatable. Pure.
 */
import { watchPrecision, type Context } from './context.js';
import { parseQuantity, type ContainerSpec, type Node, type Pod } from './kube-objects.js';
import { formatOffset, roundMs } from './format-ms.js';
import type { NodeCondition, NodeConditionChange, NodeEventInfo, NodeInfo, ResourceFit } from './section-types.js';
import type { Anomaly, Milestone } from './types.js';

const MEMORY_LIKE = new Set(['memory', 'ephemeral-storage']);

function formatQuantity(resource: string, value: number): string {
  if (resource === 'cpu') return `${Math.round(value * 1000)}m`;
  if (MEMORY_LIKE.has(resource) && value > 0 && value % 2 ** 20 === 0) return `${value / 2 ** 20}Mi`;
  return String(value);
}

function requestsOf(containers: ContainerSpec[] | undefined): Map<string, number> {
  const sum = new Map<string, number>();
  for (const c of containers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.requests ?? {})) {
      const q = parseQuantity(v);
      if (q !== undefined) sum.set(k, (sum.get(k) ?? 0) + q);
    }
  }
  return sum;
}

/** What the scheduler counts: max(app + sidecars, largest init container) + overhead. */
function effectiveRequests(pod: Pod | undefined): Map<string, number> {
  const spec = pod?.spec;
  const sidecars = (spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const plainInit = (spec?.initContainers ?? []).filter((c) => c.restartPolicy !== 'Always');
  const total = requestsOf([...(spec?.containers ?? []), ...sidecars]);
  for (const c of plainInit) {
    for (const [k, v] of requestsOf([c])) total.set(k, Math.max(total.get(k) ?? 0, v));
  }
  for (const [k, v] of Object.entries(spec?.overhead ?? {})) {
    const q = parseQuantity(v);
    if (q !== undefined) total.set(k, (total.get(k) ?? 0) + q);
  }
  return total;
}

function conditionsOf(node: Node): NodeCondition[] {
  return (node.status?.conditions ?? []).map((c) => {
    const out: NodeCondition = { type: c.type, status: c.status };
    if (c.reason) out.reason = c.reason;
    if (c.message) out.message = c.message;
    return out;
  });
}

export function nodeInfo(ctx: Context, milestones: Milestone[], t0: number): NodeInfo | null {
  const scheduled = milestones.find((m) => m.id === 'scheduler.scheduled')?.detail?.replace(/^node /, '');
  const name = ctx.latestPod?.spec?.nodeName ?? scheduled;
  const names = new Set(ctx.nodes.map((n) => n.node.metadata?.name));
  const snapshots = ctx.nodes.filter((n) => (name ? n.node.metadata?.name === name : names.size === 1));
  const first = snapshots[0]?.node;
  if (!first) return name ? { name, conditionsAtStart: [], conditionChanges: [], resources: {} } : null;
  const latest = snapshots.at(-1)!.node;
  const ni = latest.status?.nodeInfo ?? {};
  const info: NodeInfo = {
    name: first.metadata?.name ?? name ?? '',
    conditionsAtStart: conditionsOf(first),
    conditionChanges: [],
    resources: {},
  };
  if (ni.kubeletVersion) info.kubeletVersion = ni.kubeletVersion;
  if (ni.containerRuntimeVersion) info.containerRuntimeVersion = ni.containerRuntimeVersion;
  if (ni.osImage) info.osImage = ni.osImage;
  if (ni.kernelVersion) info.kernelVersion = ni.kernelVersion;
  if (ni.architecture) info.architecture = ni.architecture;

  let previous = new Map(info.conditionsAtStart.map((c) => [c.type, c.status]));
  for (const s of snapshots.slice(1)) {
    const now = conditionsOf(s.node);
    for (const c of now) {
      const before = previous.get(c.type);
      if (before !== c.status) {
        const change: NodeConditionChange = { ...c, at: s.observedAt, offsetMs: roundMs(s.observedAt - t0) };
        if (before !== undefined) change.previousStatus = before;
        info.conditionChanges.push(change);
      }
    }
    previous = new Map(now.map((c) => [c.type, c.status]));
  }

  const allocatable = latest.status?.allocatable ?? {};
  const requested = effectiveRequests(ctx.stored ?? ctx.latestPod);
  requested.set('pods', 1);
  for (const [resource, value] of requested) {
    const fit: ResourceFit = { requested: formatQuantity(resource, value), requestedValue: resource === 'cpu' ? value * 1000 : value };
    const alloc = allocatable[resource];
    if (alloc !== undefined) {
      fit.allocatable = String(alloc);
      const q = parseQuantity(alloc);
      if (q !== undefined) fit.allocatableValue = resource === 'cpu' ? q * 1000 : q;
    }
    info.resources[resource] = fit;
  }
  return info;
}

/**
 * The node's own events from the run (earlier ones come with the watch's first
 * list and are left out). A kubelet that starts during the run has restarted:
 * what it did before may reach the trace only through status, so say so.
 */
export function withNodeEvents(info: NodeInfo | null, ctx: Context, offsetMs: number, t0: number, anomalies: Anomaly[]): NodeInfo | null {
  if (!info) return info;
  const events: NodeEventInfo[] = [];
  for (const e of ctx.nodeEvents) {
    if (e.regarding.name !== undefined && e.regarding.name !== info.name) continue;
    const at = e.first ? e.first.ms - offsetMs : e.firstObservedAt;
    if (at < ctx.header.startedAt) continue;
    events.push({
      reason: e.reason,
      message: e.message,
      component: e.component,
      at,
      offsetMs: roundMs(at - t0),
      source: e.first?.source ?? 'watch-observed',
      precisionMs: e.first?.precisionMs ?? watchPrecision(ctx),
    });
    if (e.reason === 'Starting' && e.component === 'kubelet') {
      anomalies.push({
        kind: 'kubelet-restarted',
        rawMs: roundMs(at - t0),
        explanation: `the kubelet on ${info.name} (re)started at ${formatOffset(at - t0)}: what it did before may be known only from pod status`,
      });
    }
  }
  if (events.length > 0) info.events = events;
  return info;
}
