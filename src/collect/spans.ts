/**
 * `--spans URL`: after a run, the components' own spans of it, from a Jaeger
 * query API (v2; the stable /api/v3 for whole traces, with nanosecond times;
 * its HTTP search ignores attributes, so the legacy /api/traces finds traces
 * by tag). What is asked for:
 * - the run's own trace: the API server's spans of podtrace's requests when
 *   the caller is in system:masters or system:monitoring (the server adopts
 *   their trace context);
 * - else each request's trace by its `audit-id` attribute (any caller);
 * - the kubelet's traces of the pod (`k8s.pod.uid`: syncPod and its CRI calls,
 *   syncTerminatingPod);
 * - the API server's `authentication` spans around the POST (a root of their
 *   own: the filter runs outside the tracing filter).
 * Components export in batches: the read is repeated, within a bound, until
 * what the run implies is there. The answers are recorded as they came (the
 * trace derives everything from them); failures are one observation each.
 */
import { podStorageKey } from '../trace/component-spans.js';
import { JaegerQuery, TraceBackendError } from './jaeger.js';
import type { ObservationLog } from './observation-log.js';
import { pause } from './stop.js';

export interface SpanReadRequest {
  /** The query API's base URL, e.g. http://127.0.0.1:16686. */
  backend: string;
  /** The run's own trace id (none for a pod podtrace did not create: inspect, watch). */
  traceId?: string;
  /** Audit IDs whose API server spans matter (the POST's, the DELETE's). */
  auditIds: readonly string[];
  /**
   * A pod podtrace did not create: its storage key (`/pods/NAMESPACE/NAME`),
   * which the API server's etcd `Create` span carries; that span's audit id
   * leads to the creating request's spans.
   */
  podKey?: string;
  podUid?: string;
  /** Client-clock window of the run, ms since the epoch. */
  from: number;
  to: number;
  /** Intervals (client ms) of requests whose authentication span is wanted. */
  authenticated: ReadonlyArray<{ from: number; to: number }>;
  /** What the run implies the components emitted, to know when to stop reading. */
  expect: { podStarted: boolean; podDeleted: boolean };
  /** The longest podtrace waits for batched exports. */
  waitMs: number;
  signal?: AbortSignal;
}

/** How often the backend is asked again while spans are still missing. */
const POLL_EVERY_MS = 500;
/** Client and server clocks may differ: widen search windows by this much. */
const SLACK_MS = 2000;

interface Payload {
  query: Record<string, unknown>;
  response: unknown;
}

/** The span names in the payloads, and the audit IDs their spans carry. */
function contents(payloads: readonly Payload[]): { names: Set<string>; auditIds: Set<string>; keys: Set<string> } {
  const names = new Set<string>();
  const auditIds = new Set<string>();
  const keys = new Set<string>();
  type Span = { name?: string; attributes?: Array<{ key?: string; value?: { stringValue?: string } }> };
  for (const p of payloads) {
    for (const rs of ((p.response as { result?: { resourceSpans?: unknown[] } }).result?.resourceSpans ?? []) as Array<{ scopeSpans?: Array<{ spans?: Span[] }> }>) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          if (s.name) names.add(s.name);
          const audit = s.attributes?.find((a) => a.key === 'audit-id')?.value?.stringValue;
          if (audit) auditIds.add(audit);
          const key = s.attributes?.find((a) => a.key === 'key')?.value?.stringValue;
          if (key) keys.add(key);
        }
      }
    }
  }
  return { names, auditIds, keys };
}

/** One read of everything; the payloads, and what is still missing. */
async function readOnce(request: SpanReadRequest, jaeger: JaegerQuery): Promise<{ payloads: Payload[]; missing: string[] }> {
  const payloads: Payload[] = [];
  const seen = new Set<string>();
  const window = { from: request.from - SLACK_MS, to: request.to + SLACK_MS };
  const add = async (traceId: string, query: Record<string, unknown>): Promise<void> => {
    if (seen.has(traceId)) return;
    seen.add(traceId);
    const response = await jaeger.trace(traceId);
    if (response !== undefined) payloads.push({ query, response });
  };
  if (request.traceId !== undefined) await add(request.traceId, { kind: 'run-trace', traceId: request.traceId });
  if (request.podKey !== undefined) {
    for (const id of await jaeger.traceIdsByAttribute('apiserver', 'key', request.podKey, window)) await add(id, { kind: 'pod-key', key: request.podKey, traceId: id });
  }
  // Found in the run's own trace when the caller is privileged; else in a trace of the server's own.
  for (const auditId of request.auditIds) {
    for (const id of await jaeger.traceIdsByAttribute('apiserver', 'audit-id', auditId, window)) await add(id, { kind: 'audit-id', auditId, traceId: id });
  }
  if (request.podUid !== undefined) {
    for (const id of await jaeger.traceIdsByAttribute('kubelet', 'k8s.pod.uid', request.podUid, window)) await add(id, { kind: 'pod', podUid: request.podUid, traceId: id });
  }
  for (const w of request.authenticated) {
    const response = await jaeger.tracesWithOperation('apiserver', 'authentication', { from: w.from - SLACK_MS, to: w.to + SLACK_MS });
    if (response !== undefined) payloads.push({ query: { kind: 'authentication', from: w.from, to: w.to }, response });
  }
  const { names, auditIds, keys } = contents(payloads);
  const missing = [
    ...(request.podKey !== undefined && !keys.has(request.podKey) ? [`the API server's spans of the pod's creation (${request.podKey})`] : []),
    ...request.auditIds.filter((id) => !auditIds.has(id)).map((id) => `the API server's spans of ${id}`),
    ...(request.expect.podStarted && !names.has('runtime.v1.RuntimeService/RunPodSandbox') ? ["the kubelet's RunPodSandbox"] : []),
    ...(request.expect.podStarted && !names.has('runtime.v1.RuntimeService/StartContainer') ? ["the kubelet's StartContainer"] : []),
    ...(request.expect.podDeleted && !names.has('syncTerminatingPod') ? ["the kubelet's syncTerminatingPod"] : []),
  ];
  return { payloads, missing };
}

/**
 * Reads until what the run implies has arrived or `waitMs` has passed, and
 * records the last answers: a `spans` observation per trace (its query and
 * the answer as it came), then `spans-read` with how long it waited and what
 * never came; a backend that fails is `spans-read` with the error.
 */
export async function readComponentSpans(request: SpanReadRequest, log: Pick<ObservationLog, 'client' | 'clock'>): Promise<void> {
  const started = log.clock.now();
  const deadline = started + request.waitMs;
  const jaeger = new JaegerQuery(request.backend, request.signal);
  let last: { payloads: Payload[]; missing: string[] } | undefined;
  try {
    for (;;) {
      last = await readOnce(request, jaeger);
      if (last.missing.length === 0 || log.clock.now() + POLL_EVERY_MS > deadline || request.signal?.aborted) break;
      await pause(POLL_EVERY_MS, request.signal);
    }
  } catch (error) {
    if (!(error instanceof TraceBackendError)) throw error;
    log.client('spans-read', { backend: request.backend, error: error.message, waitedMs: log.clock.now() - started });
    return;
  }
  for (const p of last.payloads) log.client('spans', { backend: request.backend, query: p.query, response: p.response });
  log.client('spans-read', { backend: request.backend, waitedMs: log.clock.now() - started, traces: last.payloads.length, missing: last.missing });
}

/**
 * How long a read waits for the components' batched span exports: the
 * OpenTelemetry SDK's batch processor exports every 5 s by default (the local
 * cluster's every 0.5 s).
 */
export const SPANS_WAIT_MS = 15_000;

/** A pod older than this has had its spans exported long ago: one read, no wait. */
const RECENT_POD_MS = 60_000;

interface PodObject {
  metadata?: { uid?: string; namespace?: string; name?: string; creationTimestamp?: string };
  status?: { containerStatuses?: Array<{ state?: Record<string, unknown>; lastState?: Record<string, unknown> }> };
}

/**
 * The spans of a pod podtrace did not create (inspect, watch): the request
 * that created it, found by its storage key, and the kubelet's syncs of it.
 */
export async function readPodSpans(
  pod: unknown,
  options: { backend: string; signal?: AbortSignal; podDeleted?: boolean },
  log: Pick<ObservationLog, 'client' | 'clock'>,
): Promise<void> {
  const { metadata = {}, status = {} } = (pod ?? {}) as PodObject;
  const now = log.clock.now();
  const created = metadata.creationTimestamp ? Date.parse(metadata.creationTimestamp) : NaN;
  const from = Number.isFinite(created) ? created : now - RECENT_POD_MS;
  const started = (status.containerStatuses ?? []).some((c) => c.state?.['running'] !== undefined || c.state?.['terminated'] !== undefined || c.lastState?.['terminated'] !== undefined);
  await readComponentSpans(
    {
      backend: options.backend,
      auditIds: [],
      ...(metadata.namespace && metadata.name ? { podKey: podStorageKey(metadata.namespace, metadata.name) } : {}),
      ...(metadata.uid ? { podUid: metadata.uid } : {}),
      from,
      to: now,
      authenticated: [],
      expect: { podStarted: started, podDeleted: options.podDeleted ?? false },
      waitMs: now - from < RECENT_POD_MS ? SPANS_WAIT_MS : 0,
      ...(options.signal ? { signal: options.signal } : {}),
    },
    log,
  );
}

/** The one line a read leaves for the person: the backend's error, or what never came. */
export function spansReadNote(observations: readonly { source: string; type: string; data?: Record<string, unknown> }[], backend: string): string | undefined {
  const read = observations.filter((o) => o.source === 'client' && o.type === 'spans-read').at(-1)?.data ?? {};
  if (typeof read['error'] === 'string') return `warning: no component spans: ${read['error']}; the trace goes on without them`;
  if (Array.isArray(read['missing']) && read['missing'].length > 0) {
    return `note: after ${Math.round(Number(read['waitedMs']) / 1000)}s ${backend} still had no ${read['missing'].join(', ')} (is tracing on? podtrace doctor says)`;
  }
  return undefined;
}
