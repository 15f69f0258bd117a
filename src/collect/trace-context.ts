/**
 * A run's W3C trace context. Every request podtrace sends for the run (the
 * reviews, the POST, the DELETE ...) carries `traceparent` with the run's
 * trace id and a span id of its own, and an `Audit-ID` that names the same
 * span: the API server adopts the trace context only from callers in
 * system:masters or system:monitoring (anyone else gets a root span of its
 * own with a link to ours), but it uses any client's Audit-ID as the audit ID
 * of the request and as the `audit-id` attribute of its spans, so the spans
 * of podtrace's requests can be found for every identity.
 */
import { randomBytes } from 'node:crypto';
import type { RequestTracer } from '../kube/types.js';
import type { ObservationLog } from './observation-log.js';

export interface RunTraceIds {
  /** 32 hex digits. */
  traceId: string;
  /** The span podtrace's own steps hang from (its "pod start" span), 16 hex digits. */
  rootSpanId: string;
}

export type RandomHex = (bytes: number) => string;

const randomHex: RandomHex = (bytes) => randomBytes(bytes).toString('hex');

export function newTraceIds(random: RandomHex = randomHex): RunTraceIds {
  return { traceId: random(16), rootSpanId: random(8) };
}

/**
 * The tracer for one run: a new span id per request, its Audit-ID
 * `podtrace-<trace id>-<span id>` (58 characters: the API server keeps 64),
 * each recorded as a `request-traced` observation when the request goes out.
 */
export function runTracer(ids: RunTraceIds, log: ObservationLog, random: RandomHex = randomHex): RequestTracer {
  return (call) => {
    const spanId = random(8);
    const auditId = `podtrace-${ids.traceId}-${spanId}`;
    log.client('request-traced', { call, spanId, auditId });
    return { traceparent: `00-${ids.traceId}-${spanId}-01`, auditId };
  };
}
