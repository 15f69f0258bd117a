/**
 * Which of the recorded component spans are this run's, and what each one
 * times: the API server's spans of podtrace's requests (found by the
 * `audit-id` the request carried, in the run's own trace or a trace of the
 * server's own), the `authentication` span that encloses each (a root span of
 * its own), and the kubelet's syncs of the pod (by `k8s.pod.uid`) with their
 * CRI calls, matched to containers. Pure.
 */
import type { Observation } from './observation.js';
import { str } from './kube-objects.js';
import { mergeSpans, spanResolutionMs, type ComponentSpan } from './otlp-spans.js';

/** The API server's spans of one request of the run. */
export interface RequestSpans {
  call: string;
  auditId: string;
  /** The HTTP server span (`POST /api/v1/namespaces/{:namespace}/pods`). */
  server: ComponentSpan;
  /** Everything below it: audit, authorization, the handler, webhook calls, storage, etcd. */
  descendants: ComponentSpan[];
  /** The authentication filter's span that encloses the request, when one does (a root of its own). */
  authentication?: ComponentSpan;
  /** The server adopted podtrace's trace context (a caller in system:masters or system:monitoring). */
  inRunTrace: boolean;
  /** Sent by podtrace (else another client's request that created the pod, found by its storage key). */
  byPodtrace: boolean;
}

/** One CRI call of the kubelet for the pod, and the container it was for (when it names one). */
export interface CriCall {
  span: ComponentSpan;
  /** RunPodSandbox, PullImage, CreateContainer, StartContainer, ExecSync, StopContainer ... */
  method: string;
  container?: string;
}

export interface SpanFindings {
  backend?: string;
  /** Every span read, once. */
  all: ComponentSpan[];
  /** The resolution the backend kept (ns, or µs). */
  resolutionMs: number;
  requests: RequestSpans[];
  /** The kubelet's syncPod spans of the pod, oldest first. */
  syncs: ComponentSpan[];
  /** syncTerminatingPod / syncTerminatedPod. */
  terminating: ComponentSpan[];
  /** The CRI calls under those syncs, in time order. */
  cri: CriCall[];
  /** What the backend or the read said: the wait, what never came, an error. */
  read?: { waitedMs?: number; missing: string[]; error?: string };
}

const CRI_PREFIX = /^runtime\.v1\.(RuntimeService|ImageService)\//;

function descendantsOf(root: ComponentSpan, spans: readonly ComponentSpan[]): ComponentSpan[] {
  const out: ComponentSpan[] = [];
  const ids = new Set([root.spanId]);
  // spans are sorted by start: a child starts at or after its parent
  for (const s of spans) {
    if (s.traceId === root.traceId && s.parentSpanId !== undefined && ids.has(s.parentSpanId)) {
      out.push(s);
      ids.add(s.spanId);
    }
  }
  return out;
}

/** The tightest root `authentication` span of the API server around the request's server span. */
function enclosingAuthentication(server: ComponentSpan, spans: readonly ComponentSpan[]): ComponentSpan | undefined {
  const around = spans.filter(
    (s) => s.service === server.service && s.name === 'authentication' && s.parentSpanId === undefined && s.startNs <= server.startNs && s.endNs >= server.endNs,
  );
  return around.sort((a, b) => (a.startNs > b.startNs ? -1 : 1))[0];
}

interface RequestRef {
  call: string;
  auditId: string;
  byPodtrace: boolean;
}

function requestSpans(spans: readonly ComponentSpan[], requests: readonly RequestRef[], runTraceId: string | undefined): RequestSpans[] {
  const out: RequestSpans[] = [];
  for (const { call, auditId, byPodtrace } of requests) {
    // the server span: the outermost span carrying the audit id (its handler and storage spans carry it too)
    const carrying = spans.filter((s) => s.attributes['audit-id'] === auditId);
    const ids = new Set(carrying.map((s) => s.spanId));
    const server = carrying.find((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId));
    if (!server) continue;
    const authentication = enclosingAuthentication(server, spans);
    out.push({
      call,
      auditId,
      server,
      descendants: descendantsOf(server, spans),
      ...(authentication ? { authentication } : {}),
      inRunTrace: server.traceId === runTraceId,
      byPodtrace,
    });
  }
  return out;
}

/**
 * CRI calls carry no container name: a sync starts containers one after
 * another (CreateContainer, StartContainer, then an exec postStart hook), so
 * the n-th CreateContainer of the pod is the n-th container the kubelet
 * started, in the order its Created events say (`startOrder`).
 */
function criCalls(syncs: readonly ComponentSpan[], spans: readonly ComponentSpan[], startOrder: readonly string[]): CriCall[] {
  const calls: CriCall[] = syncs
    .flatMap((sync) => descendantsOf(sync, spans))
    .filter((s) => CRI_PREFIX.test(s.name))
    .sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0))
    .map((span) => ({ span, method: span.name.replace(CRI_PREFIX, '') }));
  let created = -1;
  let current: string | undefined;
  let pullFor: string | undefined;
  // a PullImage comes before the CreateContainer of the container it is for
  const pending: CriCall[] = [];
  for (const call of calls) {
    if (call.method === 'PullImage') pending.push(call);
    if (call.method === 'CreateContainer') {
      created += 1;
      current = startOrder[created];
      pullFor = current;
      for (const p of pending.splice(0)) if (pullFor) p.container = pullFor;
    }
    if (current && (call.method === 'CreateContainer' || call.method === 'StartContainer' || call.method === 'ExecSync')) call.container = current;
  }
  return calls;
}

/** The requests podtrace sent with an audit id of its own. */
function tracedRequests(observations: readonly Observation[]): RequestRef[] {
  const out: RequestRef[] = [];
  for (const o of observations) {
    if (o.source !== 'client' || o.type !== 'request-traced') continue;
    const call = str(o.data?.['call']);
    const auditId = str(o.data?.['auditId']);
    if (call && auditId) out.push({ call, auditId, byPodtrace: true });
  }
  return out;
}

/** A pod's key in the API server's storage, as its etcd spans name it (`key` attribute). */
export function podStorageKey(namespace: string, name: string): string {
  return `/pods/${namespace}/${name}`;
}

/**
 * A pod podtrace did not create (inspect, watch): the request that created it
 * is the one whose etcd `Create` span wrote its key; of a name used more than
 * once, the write in the second its creationTimestamp names (the server
 * stamps it before the write, truncated to the second).
 */
function creatingRequest(spans: readonly ComponentSpan[], pod: { key: string; createdAtMs?: number }): RequestRef | undefined {
  const writes = spans.filter((s) => s.name === 'Create etcd3' && s.attributes['key'] === pod.key && str(s.attributes['audit-id']));
  const created = pod.createdAtMs;
  const ms = (s: ComponentSpan) => Number(s.startNs / 1_000_000n);
  const near = created === undefined ? writes : writes.filter((s) => ms(s) >= created - 1000 && ms(s) < created + 2000);
  const write = near.at(-1);
  return write ? { call: 'createPod', auditId: str(write.attributes['audit-id'])!, byPodtrace: false } : undefined;
}

/** The spans recorded by a `--spans` read (none: an empty finding). */
export function findSpans(
  observations: readonly Observation[],
  runTraceId: string | undefined,
  podUid: string | undefined,
  startOrder: readonly string[],
  pod?: { key: string; createdAtMs?: number },
): SpanFindings | undefined {
  const payloads = observations.filter((o) => o.source === 'client' && o.type === 'spans');
  const read = observations.find((o) => o.source === 'client' && o.type === 'spans-read');
  if (!read && payloads.length === 0) return undefined;
  const all = mergeSpans(payloads.map((o) => o.data?.['response']));
  const ofPod = (s: ComponentSpan) => podUid !== undefined && s.attributes['k8s.pod.uid'] === podUid;
  const syncs = all.filter((s) => s.name === 'syncPod' && ofPod(s));
  const terminating = all.filter((s) => (s.name === 'syncTerminatingPod' || s.name === 'syncTerminatedPod') && ofPod(s));
  const readData = read?.data ?? {};
  return {
    ...(str(readData['backend']) ? { backend: str(readData['backend']) } : {}),
    all,
    resolutionMs: spanResolutionMs(all),
    requests: requestSpans(all, requestsOf(all, tracedRequests(observations), pod), runTraceId),
    syncs,
    terminating,
    cri: [...criCalls(syncs, all, startOrder), ...criCalls(terminating, all, [])],
    ...(read
      ? {
          read: {
            ...(typeof readData['waitedMs'] === 'number' ? { waitedMs: readData['waitedMs'] } : {}),
            missing: Array.isArray(readData['missing']) ? readData['missing'].filter((m): m is string => typeof m === 'string') : [],
            ...(str(readData['error']) ? { error: str(readData['error'])! } : {}),
          },
        }
      : {}),
  };
}

function requestsOf(all: readonly ComponentSpan[], traced: RequestRef[], pod: { key: string; createdAtMs?: number } | undefined): RequestRef[] {
  if (pod === undefined || traced.some((r) => r.call === 'createPod')) return traced;
  const creating = creatingRequest(all, pod);
  return creating ? [creating, ...traced] : traced;
}

/** A span of the API server's handling of one of podtrace's calls: `name` among its descendants, or the server span itself. */
export function requestSpan(findings: SpanFindings | undefined, call: string, name?: string): ComponentSpan | undefined {
  const request = findings?.requests.find((r) => r.call === call);
  if (!request) return undefined;
  return name === undefined ? request.server : request.descendants.find((s) => s.name === name);
}

/** The kubelet's first sync of the pod: the one that creates it (update_type create), else the earliest. */
export function creatingSync(findings: SpanFindings | undefined): ComponentSpan | undefined {
  return findings?.syncs.find((s) => s.attributes['k8s.pod.update_type'] === 'create') ?? findings?.syncs[0];
}

/** The first CRI call of this method (for this container, when given) under the pod's syncs. */
export function criCall(findings: SpanFindings | undefined, method: string, container?: string): ComponentSpan | undefined {
  return findings?.cri.find((c) => c.method === method && (container === undefined || c.container === container))?.span;
}

/** CRI calls of this method under the pod's termination (syncTerminatingPod), oldest first. */
export function terminatingCalls(findings: SpanFindings | undefined, method: string): ComponentSpan[] {
  if (!findings) return [];
  const ids = new Set(findings.terminating.map((s) => s.traceId));
  return findings.cri.filter((c) => c.method === method && ids.has(c.span.traceId)).map((c) => c.span);
}
