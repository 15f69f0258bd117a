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
import { JaegerQuery, TraceBackendError } from './jaeger.js';
import type { ObservationLog } from './observation-log.js';
import { pause } from './stop.js';

export interface SpanReadRequest {
  /** The query API's base URL, e.g. http://127.0.0.1:16686. */
  backend: string;
  traceId: string;
  /** Audit IDs whose API server spans matter (the POST's, the DELETE's). */
  auditIds: readonly string[];
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
function contents(payloads: readonly Payload[]): { names: Set<string>; auditIds: Set<string> } {
  const names = new Set<string>();
  const auditIds = new Set<string>();
  type Span = { name?: string; attributes?: Array<{ key?: string; value?: { stringValue?: string } }> };
  for (const p of payloads) {
    for (const rs of ((p.response as { result?: { resourceSpans?: unknown[] } }).result?.resourceSpans ?? []) as Array<{ scopeSpans?: Array<{ spans?: Span[] }> }>) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          if (s.name) names.add(s.name);
          const audit = s.attributes?.find((a) => a.key === 'audit-id')?.value?.stringValue;
          if (audit) auditIds.add(audit);
        }
      }
    }
  }
  return { names, auditIds };
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
  await add(request.traceId, { kind: 'run-trace', traceId: request.traceId });
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
  const { names, auditIds } = contents(payloads);
  const missing = [
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
export async function readComponentSpans(request: SpanReadRequest, log: ObservationLog): Promise<void> {
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
