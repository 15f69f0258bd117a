/**
 * What a milestone row is (MilestoneSpec) and where its times can come from
 * (Candidate), with the builders every row uses: a client step, an event, a
 * watch sighting, a 1-s status field, a condition. Pure.
 */
import { PRECISION_MS, parseSecondsTime, type TimeSource } from './event-time.js';
import { podEndpoint, type Context, type PodSnapshot } from './context.js';
import type { NormalizedEvent, Pod, PodCondition } from './kube-objects.js';
import type { Component } from './types.js';
import { nsToMs, type ComponentSpan } from './otlp-spans.js';

export interface Candidate {
  kind: 'event' | 'status' | 'client' | 'span';
  source: TimeSource;
  precisionMs: number;
  /** A server-clock time, moved onto the client timeline with the clock offset. */
  serverMs?: number;
  /** A client-clock time. */
  clientMs?: number;
  /** When the client saw the evidence: nothing is placed after the moment it was seen. */
  observedAt?: number;
  evidence: string;
  detail?: string;
  fallback?: string;
  /**
   * The stamp comes after the happening (the scheduler stamps its Scheduled
   * event when the bind call returns, and the kubelet may start on the pod
   * before that): an upper bound, which a precise later step may cap.
   */
  stampedAfter?: true;
}

export interface MilestoneSpec {
  id: string;
  label: string;
  /** What happens in the step that ends at this milestone. */
  stepLabel: string;
  component: Component;
  container?: string;
  /** The event this row is normally timed from; used to say so when it is missing. */
  expects?: string;
  /**
   * Rows that causally happen before this one (a sandbox is ready before the
   * kubelet pulls the first image). reconstruct() uses them to bound coarse
   * times by precise ones and to flag real inversions (clock skew).
   */
  after?: string[];
  /**
   * Its client-clock candidates are when the client learned of it (a response,
   * a watch sighting), so they are only upper bounds, like watch sightings.
   */
  timedWhenSeen?: boolean;
  /** Reached only when something goes wrong: never announced as the step in progress. */
  failure?: true;
  /** Rows of another path that excludes this one (the image pulled, or found present). */
  exclusiveWith?: string[];
  candidates(ctx: Context): Candidate[];
}


/** A component's span: its start or its end, on the component's clock, as precise as the backend kept it. */
export function fromSpan(ctx: Context, span: ComponentSpan | undefined, edge: 'start' | 'end', detail?: string): Candidate[] {
  if (!span || !ctx.spans) return [];
  return [
    {
      kind: 'span',
      source: 'span',
      precisionMs: ctx.spans.resolutionMs,
      serverMs: nsToMs(edge === 'start' ? span.startNs : span.endNs),
      evidence: `${span.service} span ${span.name} (${edge})`,
      ...(detail ? { detail } : {}),
    },
  ];
}

/**
 * --expose: the first try from podtrace's machine that reached the pod through the Service's
 * cluster IP ('route') or resolved its name through the cluster DNS ('dns'). The change happened
 * between the try before it (or the Service's creation) and that try: the time is the middle of
 * that interval, the precision half its width.
 */
export function reachStep(ctx: Context, what: 'route' | 'dns'): Candidate[] {
  const o = (ctx.client.get('service-reach') ?? []).find((x) => x.data?.what === what && x.data?.ok === true && (x.data?.vantage ?? 'client') === 'client');
  const d = o?.data;
  if (!d || typeof d.attemptAt !== 'number') return [];
  const created = ctx.client.get('service-created')?.[0]?.observedAt;
  const lower = typeof d.previousAttemptAt === 'number' ? d.previousAttemptAt : Math.min(created ?? d.attemptAt, d.attemptAt);
  const tries = typeof d.attempts === 'number' ? d.attempts : 1;
  const via = what === 'route' ? `a connection to ${String(d.target)}` : `a DNS query for ${String(d.target)}`;
  return [
    {
      kind: 'client',
      source: 'client-clock',
      precisionMs: (d.attemptAt - lower) / 2,
      clientMs: (d.attemptAt + lower) / 2,
      evidence: `client service-reach: ${via}, try ${tries} from podtrace's machine worked${typeof d.previousAttemptAt === 'number' ? ', the one before failed' : ' (the first)'}`,
      detail: `from podtrace's machine: ${String(d.target)}`,
    },
  ];
}

/**
 * --expose from inside the cluster: the probe pod's first try that worked, on its node's clock
 * (taken as the API server's: `clockOffsetMs` moves the Service's creation onto it). The change
 * happened between its last failed try, or the Service's creation when the first try worked, and
 * that try: the middle of the interval, half its width.
 */
export function podReachStep(ctx: Context, what: 'route' | 'dns', clockOffsetMs: number): Candidate[] {
  const d = (ctx.client.get('service-reach') ?? []).find((x) => x.data?.what === what && x.data?.ok === true && x.data?.vantage === 'pod')?.data;
  if (!d || typeof d.attemptAt !== 'number') return [];
  const created = ctx.client.get('service-created')?.[0]?.observedAt;
  const previous = typeof d.previousAttemptAt === 'number' ? d.previousAttemptAt : undefined;
  const lower = previous ?? Math.min(created === undefined ? d.attemptAt : created + clockOffsetMs, d.attemptAt);
  const node = typeof d.node === 'string' ? d.node : 'its node';
  const via = what === 'route' ? `a connection to ${String(d.target)}` : `a DNS query for ${String(d.target)}`;
  const before = previous !== undefined ? 'the one before failed' : 'its first: the change came between the Service\'s creation and it';
  return [
    {
      kind: 'client',
      source: 'probe-clock',
      precisionMs: (d.attemptAt - lower) / 2,
      serverMs: (d.attemptAt + lower) / 2,
      evidence: `probe pod ${String(d.pod)} on ${node}: ${via}, try ${String(d.attempts)} worked, ${before} (${node}'s clock)`,
      detail: `from a pod on ${node}: ${String(d.target)}`,
    },
  ];
}

/** The first sighting of the pod's address in the Service's EndpointSlices that passes `ok`. */
export function sliceSighting(ctx: Context, podName: string, what: string, ok: (ready: boolean) => boolean): Candidate[] {
  for (const s of ctx.slices) {
    if (s.type === 'DELETED') continue;
    const endpoint = podEndpoint(s.slice, podName);
    if (!endpoint || !ok(endpoint.conditions?.ready === true)) continue;
    return [
      {
        kind: 'status',
        source: 'watch-observed',
        precisionMs: PRECISION_MS['watch-observed'],
        clientMs: s.observedAt,
        evidence: `EndpointSlice ${s.slice.metadata?.name ?? ''} ${s.type}: ${what}`,
        detail: endpoint.addresses?.[0],
        ...(s.type === 'LIST' ? { fallback: 'first seen in a relist after a watch gap: the change happened earlier' } : {}),
      },
    ];
  }
  return [];
}

export function clientStep(ctx: Context, type: string, detail?: (data: Record<string, unknown>) => string | undefined): Candidate[] {
  const o = ctx.client.get(type)?.[0];
  if (!o) return [];
  return [
    {
      kind: 'client',
      source: 'client-clock',
      precisionMs: PRECISION_MS['client-clock'],
      clientMs: o.observedAt,
      evidence: `client ${type}`,
      detail: detail?.(o.data ?? {}),
    },
  ];
}

export function fromEvent(e: NormalizedEvent | undefined, detail?: string): Candidate[] {
  if (!e?.first) return [];
  return [
    {
      kind: 'event',
      source: e.first.source,
      precisionMs: e.first.precisionMs,
      serverMs: e.first.ms,
      observedAt: e.firstObservedAt,
      evidence: `${e.api === 'core/v1' ? 'event' : 'events.k8s.io event'} ${e.name} (${e.reason}${e.count > 1 ? `, count ${e.count}` : ''})`,
      detail,
      fallback: e.first.fallbackReason,
    },
  ];
}

export function firstEvent(events: NormalizedEvent[]): NormalizedEvent | undefined {
  return events[0]; // podEvents are sorted by first occurrence
}

export function firstSnapshot(ctx: Context, test: (pod: Pod) => boolean, after?: number): PodSnapshot | undefined {
  return ctx.snapshots.find((s) => (after === undefined || s.observedAt >= after) && s.type !== 'DELETED' && test(s.pod));
}

export function watched(s: PodSnapshot | undefined, what: string, detail?: string): Candidate[] {
  if (!s) return [];
  return [
    {
      kind: 'status',
      source: 'watch-observed',
      precisionMs: PRECISION_MS['watch-observed'],
      clientMs: s.observedAt,
      evidence: `pod ${s.type === 'POST' ? 'create response' : `${s.type} #${s.seq}`}: ${what}`,
      detail,
      fallback: s.type === 'LIST' ? 'first seen in a relist after a watch gap: the change happened earlier' : undefined,
    },
  ];
}

export function field(
  s: PodSnapshot | undefined,
  value: string | undefined,
  source: 'status-field-s' | 'condition-s',
  what: string,
  detail?: string,
): Candidate[] {
  const t = parseSecondsTime(value, source);
  if (!s || !t) return [];
  return [{ kind: 'status', source, precisionMs: t.precisionMs, serverMs: t.ms, observedAt: s.observedAt, evidence: `${what} ${t.raw}`, detail }];
}

export function condition(pod: Pod | undefined, type: string): PodCondition | undefined {
  return pod?.status?.conditions?.find((c) => c.type === type);
}

export function conditionTrue(ctx: Context, type: string, detail?: (pod: Pod) => string | undefined): Candidate[] {
  const s = firstSnapshot(ctx, (p) => condition(p, type)?.status === 'True');
  if (!s) return [];
  const d = detail?.(s.pod);
  return [
    ...watched(s, `${type}=True`, d),
    ...field(s, condition(s.pod, type)?.lastTransitionTime, 'condition-s', `condition ${type} lastTransitionTime`, d),
  ];
}


export function reviewCandidates(ctx: Context, verb: 'create' | 'delete'): Candidate[] {
  // Both reviews run in parallel and arrive in either order: pick by verb, never by position.
  const o = (ctx.client.get('access-review') ?? []).find((x) => x.data?.verb === verb && (x.data?.resource ?? 'pods') === 'pods');
  if (!o) return [];
  const d = o.data ?? {};
  const what = `${verb} pods`;
  const detail =
    d.error !== undefined
      ? `${what}: review failed (${typeof d.error === 'string' ? d.error : JSON.stringify(d.error)})${verb === 'create' ? ': the POST will tell' : ''}`
      : d.allowed === true
        ? `${what}: allowed`
        : `${what}: not allowed${verb === 'delete' ? ': podtrace cannot clean up after itself' : ''}${typeof d.reason === 'string' && d.reason ? ` (${d.reason})` : ''}`;
  return [
    {
      kind: 'client',
      source: 'client-clock',
      precisionMs: PRECISION_MS['client-clock'],
      clientMs: o.observedAt,
      evidence: `client access-review (${verb})`,
      detail,
    },
  ];
}
