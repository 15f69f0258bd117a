/**
 * `podtrace doctor --spans URL`: whether the components' spans reach that
 * trace backend, found the way `create --spans` finds a run's (spans.ts).
 * - The API server: the version request went out with trace context and an
 *   Audit-ID (trace-context.ts); it is looked for, within a bound, in the
 *   run's own trace and by its audit-id attribute, as create looks for its
 *   POST's.
 * - Each kubelet read: any span of service kubelet with host.name = the node
 *   in the last minutes (the kubelet traces its CRI calls, which it makes
 *   every second), else any kubelet's.
 */
import { findSpans } from '../trace/component-spans.js';
import type { BackendFinding, KubeletFinding } from '../trace/doctor-findings.js';
import { mergeSpans, spanResolutionMs } from '../trace/otlp-spans.js';
import { JaegerQuery, TraceBackendError } from './jaeger.js';
import type { ObservationLog } from './observation-log.js';
import { readComponentSpans } from './spans.js';
import type { RunTraceIds } from './trace-context.js';

export interface SpanCheckRequest {
  backend: string;
  /** The ids the version request carried, and the log its `request-traced` observation is in. */
  ids: RunTraceIds;
  log: ObservationLog;
  /** When the traced request went out (client ms). */
  sentAt: number;
  /** The longest wait for the API server's batched export. */
  waitMs: number;
  /** How far back kubelet spans count. */
  kubeletWindowMs: number;
  nodes: readonly string[];
  signal?: AbortSignal;
}

async function kubeletSpans(jaeger: JaegerQuery, node: string, window: { from: number; to: number }): Promise<{ spans: NonNullable<KubeletFinding['spans']>; traceId?: string }> {
  const own = await jaeger.recentTraceIds('kubelet', window, 1, { key: 'host.name', value: node });
  if (own.length > 0) return { spans: 'found', traceId: own[0]! };
  const any = await jaeger.recentTraceIds('kubelet', window, 1);
  return any.length > 0 ? { spans: 'other-hosts', traceId: any[0]! } : { spans: 'none' };
}

/** The backend's finding, and for each node whether its kubelet's spans are there. */
export async function checkSpans(request: SpanCheckRequest): Promise<{ backend: BackendFinding; kubelets: Map<string, NonNullable<KubeletFinding['spans']>> }> {
  const { backend, ids, log } = request;
  const jaeger = new JaegerQuery(backend, request.signal);
  const kubelets = new Map<string, NonNullable<KubeletFinding['spans']>>();
  const finding: BackendFinding = { url: backend, kubeletWindowMs: request.kubeletWindowMs };
  const traced = log.observations.find((o) => o.type === 'request-traced');
  const auditId = typeof traced?.data?.['auditId'] === 'string' ? traced.data['auditId'] : undefined;
  try {
    const now = log.clock.now();
    const window = { from: now - request.kubeletWindowMs, to: now };
    // The kubelets first (a few quick searches), then the API server's request, which may take the whole wait.
    const perNode = await Promise.all(request.nodes.map(async (node) => ({ node, ...(await kubeletSpans(jaeger, node, window)) })));
    if (auditId !== undefined) {
      const spanRequest = {
        backend,
        traceId: ids.traceId,
        auditIds: [auditId],
        from: request.sentAt,
        to: now,
        authenticated: [],
        expect: { podStarted: false, podDeleted: false },
        waitMs: request.waitMs,
        ...(request.signal ? { signal: request.signal } : {}),
      };
      await readComponentSpans(spanRequest, log);
    }
    const lookedUntil = log.clock.now();
    for (const k of perNode) kubelets.set(k.node, k.spans);
    const read = log.observations.findLast((o) => o.type === 'spans-read')?.data;
    const interrupted = request.signal?.aborted === true;
    // an aborted wait fails its last request: that says nothing of the backend
    if (typeof read?.['error'] === 'string' && !interrupted) throw new TraceBackendError(read['error']);
    const spans = findSpans(log.observations, ids.traceId, undefined, []);
    const version = spans?.requests.find((r) => r.call === 'serverVersion');
    if (auditId !== undefined) {
      finding.apiserver = {
        request: 'GET /version',
        found: version !== undefined,
        // from the request to the answer that had its span (or to the end of the wait)
        waitedMs: Math.round(lookedUntil - request.sentAt),
        ...(version ? { inRunTrace: version.inRunTrace } : {}),
        ...(!version && interrupted ? { interrupted: true as const } : {}),
      };
    }
    if (spans && spans.all.length > 0) finding.resolutionMs = spans.resolutionMs;
    else {
      // No API server span: the backend's resolution from one of the kubelet's traces.
      const traceId = perNode.find((k) => k.traceId !== undefined)?.traceId;
      const sample = traceId && !interrupted ? mergeSpans([await jaeger.trace(traceId)]) : [];
      if (sample.length > 0) finding.resolutionMs = spanResolutionMs(sample);
    }
  } catch (error) {
    if (!(error instanceof TraceBackendError)) throw error;
    if (request.signal?.aborted) return { backend: { ...finding, error: 'interrupted before the backend answered' }, kubelets };
    return { backend: { url: backend, error: error.message }, kubelets: new Map() };
  }
  return { backend: finding, kubelets };
}
