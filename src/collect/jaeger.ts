/**
 * A Jaeger (v2) query API: the only place that knows its paths. Whole traces
 * come from the stable /api/v3 (OTLP/JSON, nanosecond times); its HTTP search
 * ignores attributes (v1.75), so traces are found by tag with the legacy
 * /api/traces, whose answers only give their ids here.
 */

const REQUEST_TIMEOUT_MS = 5000;

/** The backend cannot be used: unreachable, or not a Jaeger query API. One line, for the trace and the person. */
export class TraceBackendError extends Error {}

export class JaegerQuery {
  readonly #base: string;

  constructor(
    url: string,
    private readonly signal?: AbortSignal,
  ) {
    this.#base = url.replace(/\/+$/, '');
  }

  /** A whole trace (undefined: none of that id yet). */
  trace(traceId: string): Promise<unknown | undefined> {
    return this.#get(`/api/v3/traces/${traceId}`);
  }

  /** Ids of the traces that have a span of `service` with the attribute `key: value`, within the window (ms since the epoch). */
  async traceIdsByAttribute(service: string, key: string, value: string, window: { from: number; to: number }): Promise<string[]> {
    const params = new URLSearchParams({
      service,
      tag: `${key}:${value}`,
      start: String(Math.floor(window.from * 1000)),
      end: String(Math.ceil(window.to * 1000)),
      limit: '100',
    });
    const body = (await this.#get(`/api/traces?${params}`)) as { data?: Array<{ traceID?: string }> } | undefined;
    return (body?.data ?? []).map((t) => t.traceID).filter((id): id is string => typeof id === 'string');
  }

  /** Ids of at most `limit` traces of `service` within the window, with the attribute `key: value` when given (resource attributes count: `host.name`). */
  async recentTraceIds(service: string, window: { from: number; to: number }, limit: number, attribute?: { key: string; value: string }): Promise<string[]> {
    const params = new URLSearchParams({
      service,
      ...(attribute ? { tag: `${attribute.key}:${attribute.value}` } : {}),
      start: String(Math.floor(window.from * 1000)),
      end: String(Math.ceil(window.to * 1000)),
      limit: String(limit),
    });
    const body = (await this.#get(`/api/traces?${params}`)) as { data?: Array<{ traceID?: string }> } | undefined;
    return (body?.data ?? []).map((t) => t.traceID).filter((id): id is string => typeof id === 'string');
  }

  /** The traces of `service` that have a span named `operation` starting within the window, merged in one OTLP/JSON answer. */
  tracesWithOperation(service: string, operation: string, window: { from: number; to: number }): Promise<unknown | undefined> {
    const params = new URLSearchParams({
      'query.service_name': service,
      'query.operation_name': operation,
      'query.start_time_min': new Date(window.from).toISOString(),
      'query.start_time_max': new Date(window.to).toISOString(),
      'query.num_traces': '1000',
    });
    return this.#get(`/api/v3/traces?${params}`);
  }

  async #get(path: string): Promise<unknown | undefined> {
    const url = `${this.#base}${path}`;
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(url, { signal: this.signal ? AbortSignal.any([this.signal, timeout]) : timeout });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new TraceBackendError(`${this.#base} does not answer (${cause?.code ?? cause?.message ?? (error as Error).message})`);
    }
    const text = await response.text();
    // Jaeger answers a search or a trace id with nothing to show with 404 and its JSON error.
    if (response.status === 404 && /^\s*\{"error":\{"httpCode":404/.test(text)) return undefined;
    if (!response.ok) throw new TraceBackendError(`${this.#base} answered ${response.status} to ${path.split('?')[0]}: is it a Jaeger query API? (${text.slice(0, 120).replace(/\s+/g, ' ')})`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new TraceBackendError(`${this.#base} is not a Jaeger query API (its answer to ${path.split('?')[0]} is not JSON)`);
    }
  }
}
