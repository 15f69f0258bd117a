/**
 * `--export-otlp URL`: each finished trace is pushed to an OTLP/HTTP traces
 * endpoint (JSON encoding), the same spans `report -o otlp` writes: the run's
 * trace id and root span, podtrace's steps and requests, and copies of the
 * components' spans that are not in the run's trace, so the run opens as one
 * trace in Jaeger (or any OTLP backend). A push that fails is one warning: the
 * trace is saved all the same and the exit code is the run's.
 */
import { makeRunSet } from '../analysis/runset.js';
import { renderOtlp, traceIdOf } from '../report/otlp.js';
import type { Trace } from '../trace/types.js';
import { TOOL_VERSION } from './version.js';

const PUSH_TIMEOUT_MS = 10_000;

/** Pushes the traces; the line to print (what was pushed, or why not). */
export async function pushOtlp(url: string, traces: readonly Trace[], label: string): Promise<string> {
  const body = renderOtlp([makeRunSet([...traces], label, TOOL_VERSION)], TOOL_VERSION);
  const ids = traces.map(traceIdOf).join(', ');
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return `warning: could not push the trace to ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}; it is saved all the same`;
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    return `warning: ${url} refused the trace (${response.status}${text ? `: ${text.slice(0, 120).replace(/\s+/g, ' ')}` : ''}): is it an OTLP/HTTP traces endpoint? It is saved all the same`;
  }
  // an OTLP endpoint answers in the request's encoding; a web UI answers any path with its page
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) return `warning: ${url} answered with ${type || 'no content type'}, not an OTLP response: is it an OTLP/HTTP traces endpoint (e.g. :4318)? The trace is saved all the same`;
  const rejected = Number((JSON.parse(text || '{}') as { partialSuccess?: { rejectedSpans?: unknown } }).partialSuccess?.rejectedSpans ?? 0);
  if (rejected > 0) return `warning: ${url} rejected ${rejected} span(s) of the trace; it is saved all the same`;
  return `trace ${ids} pushed to ${url}`;
}
