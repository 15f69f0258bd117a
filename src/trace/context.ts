/**
 * One pass over the observations into the indexes reconstruct() reads:
 * pod snapshots in arrival order, events deduplicated across both event
 * APIs, node objects, and the client's own steps.
 */
import type { Observation, RecordingHeader } from './observation.js';
import { findSpans, podStorageKey, type SpanFindings } from './component-spans.js';
import { PRECISION_MS, SOURCE_RANK } from './event-time.js';
import {
  asPod,
  isRecord,
  normalizeCoreEvent,
  normalizeEventsV1,
  type ContainerSpec,
  type CoreEvent,
  type EventsV1Event,
  type Node,
  type NormalizedEvent,
  type Pod,
} from './kube-objects.js';

export interface PodSnapshot {
  pod: Pod;
  observedAt: number;
  seq: number;
  /** Watch type, or 'POST' for the create response. */
  type: string;
}

/** An EndpointSlice of the --expose Service, as one watch event delivered it. */
export interface SliceSnapshot {
  slice: EndpointSlice;
  observedAt: number;
  type: string;
}

export interface EndpointSlice {
  metadata?: { name?: string; labels?: Record<string, string> };
  endpoints?: Array<{
    addresses?: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string };
  }>;
}

/** The pod's own endpoint in an EndpointSlice (matched by its targetRef), if the slice lists it. */
export function podEndpoint(slice: EndpointSlice, podName: string): NonNullable<EndpointSlice['endpoints']>[number] | undefined {
  return (slice.endpoints ?? []).find((e) => e.targetRef?.kind === 'Pod' && e.targetRef.name === podName);
}

export interface NodeSnapshot {
  node: Node;
  observedAt: number;
}

export interface Context {
  header: RecordingHeader;
  observations: readonly Observation[];
  client: Map<string, Observation[]>;
  postSentAt?: number;
  postResponseAt?: number;
  submitted?: Pod;
  /** The object as stored, from the POST response. */
  stored?: Pod;
  podUid?: string;
  snapshots: PodSnapshot[];
  latestPod?: Pod;
  /** Events about this pod, one per stored event. */
  podEvents: NormalizedEvent[];
  /** Events about Nodes (the kubelet's Starting, NodeReady, ...), oldest first. */
  nodeEvents: NormalizedEvent[];
  nodes: NodeSnapshot[];
  /** EndpointSlices of the --expose Service, in arrival order. */
  slices: SliceSnapshot[];
  lastObservedAt: number;
  final: boolean;
  /** When podtrace sent its DELETE (teardown): what is seen after it is the teardown, not the pod under test. */
  deleteSentAt?: number;
  /**
   * How late a watch sighting may be: the largest delivery lag measured in this run
   * (delivery.ts), set by reconstruct() once the clock offset is known.
   */
  watchPrecisionMs?: number;
  /** The components' own spans of the run, when `--spans` read them (component-spans.ts). */
  spans?: SpanFindings;
}

function rank(e: NormalizedEvent): number {
  return e.first ? SOURCE_RANK.indexOf(e.first.source) : SOURCE_RANK.length;
}

/** Both APIs serve the same stored events: keep one, with the best time and the latest count. */
function mergeEvent(into: NormalizedEvent, next: NormalizedEvent): void {
  if (rank(next) < rank(into)) into.first = next.first;
  if (next.count >= into.count) {
    into.count = next.count;
    into.last = next.last ?? into.last;
    into.message = next.message || into.message;
  }
  if (next.firstObservedAt < into.firstObservedAt) into.firstSeenOnWatch = next.firstSeenOnWatch;
  into.firstObservedAt = Math.min(into.firstObservedAt, next.firstObservedAt);
  into.lastObservedAt = Math.max(into.lastObservedAt, next.lastObservedAt);
  if (!into.component) into.component = next.component;
}

function regardsPod(e: NormalizedEvent, ns: string, name: string, uid: string | undefined): boolean {
  const r = e.regarding;
  if (r.kind !== undefined && r.kind !== 'Pod') return false;
  if (uid && r.uid) return r.uid === uid;
  return r.name === name && (r.namespace === undefined || r.namespace === ns);
}

/** The precision of a watch sighting in this run: the delivery lag measured, else the clock's resolution. */
export function watchPrecision(ctx: Context): number {
  return ctx.watchPrecisionMs ?? PRECISION_MS['watch-observed'];
}

export function buildContext(header: RecordingHeader, observations: readonly Observation[]): Context {
  const client = new Map<string, Observation[]>();
  const snapshots: PodSnapshot[] = [];
  const events = new Map<string, NormalizedEvent>();
  const nodes: NodeSnapshot[] = [];
  const slices: SliceSnapshot[] = [];
  let lastObservedAt = header.startedAt;
  let final = false;

  const addWatchObject = (source: string, type: string, object: unknown, o: Observation): void => {
    if (!isRecord(object)) return;
    if (source === 'pod') {
      const pod = asPod(object);
      if (pod) snapshots.push({ pod, observedAt: o.observedAt, seq: o.seq, type });
    } else if (source === 'event' || source === 'eventsv1') {
      const e =
        source === 'event'
          ? normalizeCoreEvent(object as CoreEvent, o.observedAt)
          : normalizeEventsV1(object as EventsV1Event, o.observedAt);
      if (type === 'DELETED') return; // expiry says nothing about when it happened
      e.firstSeenOnWatch = type !== 'LIST';
      const seen = events.get(e.key);
      if (seen) mergeEvent(seen, e);
      else events.set(e.key, e);
    } else if (source === 'node') {
      nodes.push({ node: object as Node, observedAt: o.observedAt });
    } else if (source === 'endpointslice') {
      slices.push({ slice: object as EndpointSlice, observedAt: o.observedAt, type });
    }
  };

  for (const o of observations) {
    lastObservedAt = Math.max(lastObservedAt, o.observedAt);
    if (o.source === 'client') {
      const list = client.get(o.type) ?? [];
      list.push(o);
      client.set(o.type, list);
      if (['done', 'timeout', 'interrupted', 'post-error'].includes(o.type)) final = true;
      const data = o.data ?? {};
      if (o.type === 'relist' && Array.isArray(data.items) && typeof data.watch === 'string') {
        for (const item of data.items) addWatchObject(data.watch, 'LIST', item, o);
      }
      if (o.type === 'node-info' && isRecord(data.node)) nodes.push({ node: data.node as Node, observedAt: o.observedAt });
      if (o.type === 'post-response' && isRecord(data.pod)) {
        const pod = asPod(data.pod);
        if (pod) snapshots.push({ pod, observedAt: o.observedAt, seq: o.seq, type: 'POST' });
      }
      continue;
    }
    addWatchObject(o.source, o.type, o.object, o);
  }

  const firstData = (type: string): Record<string, unknown> | undefined => client.get(type)?.[0]?.data;
  const postResponse = client.get('post-response')?.[0];
  const stored = asPod(postResponse?.data?.pod);
  const submitted = asPod(firstData('submitted')?.pod);
  const podUid =
    stored?.metadata?.uid ??
    snapshots.find((s) => s.pod.metadata?.uid && s.pod.metadata?.name === header.podName)?.pod.metadata?.uid;

  const ours = snapshots.filter(
    (s) => (!podUid || !s.pod.metadata?.uid || s.pod.metadata.uid === podUid) && (s.pod.metadata?.name ?? header.podName) === header.podName,
  );
  const podEvents = [...events.values()].filter((e) => regardsPod(e, header.namespace, header.podName, podUid));
  podEvents.sort((a, b) => (a.first?.ms ?? a.firstObservedAt) - (b.first?.ms ?? b.firstObservedAt));

  const nodeEvents = [...events.values()].filter((e) => e.regarding.kind === 'Node');
  nodeEvents.sort((a, b) => (a.first?.ms ?? a.firstObservedAt) - (b.first?.ms ?? b.firstObservedAt));

  const latestLive = [...ours].reverse().find((s) => s.type !== 'DELETED') ?? ours.at(-1);
  const ctx: Context = {
    header,
    observations,
    client,
    postSentAt: client.get('post-sent')?.[0]?.observedAt,
    postResponseAt: postResponse?.observedAt,
    submitted,
    stored,
    podUid,
    snapshots: ours,
    latestPod: latestLive?.pod,
    podEvents,
    nodeEvents,
    nodes,
    slices,
    lastObservedAt,
    final,
    deleteSentAt: client.get('delete-sent')?.[0]?.observedAt,
  };
  const createdAt = ours.map((s) => s.pod.metadata?.creationTimestamp).find((t): t is string => typeof t === 'string');
  const createdAtMs = createdAt !== undefined ? Date.parse(createdAt) : NaN;
  const spans = findSpans(observations, header.trace?.traceId, podUid, startOrder(ctx), {
    key: podStorageKey(header.namespace, header.podName),
    ...(Number.isFinite(createdAtMs) ? { createdAtMs } : {}),
  });
  if (spans) ctx.spans = spans;
  return ctx;
}

/** The containers in the order the kubelet created them (their Created events), else the spec's. */
function startOrder(ctx: Context): string[] {
  const refs = containerRefs(ctx);
  const createdAt = (ref: ContainerRef) => kubeletEvents(ctx, 'Created', ref.fieldPath)[0]?.first?.ms ?? Infinity;
  return refs
    .map((ref, index) => ({ ref, index, at: createdAt(ref) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map((x) => x.ref.name);
}

/**
 * The pod as it was before podtrace's own DELETE: status snapshots and events
 * first seen before it. Deleting a pod turns it Failed (or Succeeded) and
 * wipes lastState, so classification and the container summary read this
 * view; teardown milestones read the whole context.
 */
export function beforeTeardown(ctx: Context): Context {
  const cut = ctx.deleteSentAt;
  if (cut === undefined) return ctx;
  const snapshots = ctx.snapshots.filter((s) => s.observedAt < cut);
  const live = [...snapshots].reverse().find((s) => s.type !== 'DELETED');
  const view: Context = {
    ...ctx,
    snapshots,
    podEvents: ctx.podEvents.filter((e) => e.firstObservedAt < cut),
  };
  if (live) view.latestPod = live.pod;
  else delete view.latestPod;
  return view;
}

export type ContainerKind = 'init' | 'sidecar' | 'app';

export interface ContainerRef {
  name: string;
  kind: ContainerKind;
  spec: ContainerSpec;
  /** involvedObject.fieldPath of the kubelet's events about it. */
  fieldPath: string;
}

/** Init containers first, in order, then the app containers, from the most complete spec known. */
export function containerRefs(ctx: Context): ContainerRef[] {
  const spec = ctx.stored?.spec ?? ctx.latestPod?.spec ?? ctx.submitted?.spec;
  const init: ContainerRef[] = (spec?.initContainers ?? []).map((c) => ({
    name: c.name,
    kind: c.restartPolicy === 'Always' ? 'sidecar' : 'init',
    spec: c,
    fieldPath: `spec.initContainers{${c.name}}`,
  }));
  const app: ContainerRef[] = (spec?.containers ?? []).map((c) => ({
    name: c.name,
    kind: 'app',
    spec: c,
    fieldPath: `spec.containers{${c.name}}`,
  }));
  return [...init, ...app];
}

export function containerStatus(pod: Pod | undefined, ref: ContainerRef) {
  const list = ref.kind === 'app' ? pod?.status?.containerStatuses : pod?.status?.initContainerStatuses;
  return list?.find((s) => s.name === ref.name);
}

export function kubeletEvents(ctx: Context, reason: string, fieldPath?: string): NormalizedEvent[] {
  return ctx.podEvents.filter(
    (e) => e.reason === reason && e.component === 'kubelet' && (fieldPath === undefined || e.regarding.fieldPath === fieldPath),
  );
}

export function schedulerEvents(ctx: Context, reason: string): NormalizedEvent[] {
  const wanted = (ctx.stored ?? ctx.latestPod)?.spec?.schedulerName ?? 'default-scheduler';
  return ctx.podEvents.filter((e) => e.reason === reason && (e.component === wanted || e.component === 'default-scheduler'));
}

/** Kubelet BackOff events about one container, split by what is backing off (the reason is shared). */
export function backOffEvents(ctx: Context, ref: ContainerRef, what: 'pull' | 'restart'): NormalizedEvent[] {
  const pattern = what === 'pull' ? /^Back-off pulling image/i : /^Back-off restarting failed container/i;
  const backOff = kubeletEvents(ctx, 'BackOff', ref.fieldPath).filter((e) => pattern.test(e.message));
  // The kubelet also reports the waiting reason itself as a Failed event ("Error: ImagePullBackOff").
  const failed = what === 'pull' ? kubeletEvents(ctx, 'Failed', ref.fieldPath).filter((e) => /^Error: ImagePullBackOff\b/.test(e.message)) : [];
  return [...backOff, ...failed].sort((a, b) => eventOrder(a) - eventOrder(b));
}

function eventOrder(e: NormalizedEvent): number {
  return e.first?.ms ?? e.firstObservedAt;
}

/** The kubelet's "Failed to pull image ..." events about one container (not its "Error: ErrImagePull" echo). */
export function pullFailedEvents(ctx: Context, ref: ContainerRef): NormalizedEvent[] {
  return kubeletEvents(ctx, 'Failed', ref.fieldPath).filter((e) => e.message.startsWith('Failed to pull image'));
}
