/**
 * The components' own spans, as a trace backend returned them (OTLP/JSON, the
 * shape of Jaeger's /api/v3 answers and of OTLP exports), flattened into one
 * list. Ids may come hex-encoded (OTLP/JSON) or base64 (protobuf JSON); times
 * are nanoseconds since the epoch on the emitting component's clock. Pure.
 */
import { isRecord } from './kube-objects.js';

export type SpanAttribute = string | number | boolean;

export interface ComponentSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** The resource's service.name: apiserver, kubelet, containerd ... */
  service: string;
  /** Nanoseconds since the epoch, emitter's clock, exact. */
  startNs: bigint;
  endNs: bigint;
  attributes: Readonly<Record<string, SpanAttribute>>;
  /** Links to other traces' spans (the API server links an unprivileged caller's context). */
  links: ReadonlyArray<{ traceId: string; spanId: string }>;
  /** Set when the span's status is an error. */
  error?: string;
}

const NS_PER_MS = 1_000_000n;

export function nsToMs(ns: bigint): number {
  return Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
}

/** Hex as OTLP/JSON writes ids; base64 (protobuf JSON's bytes) decoded to hex. */
export function idHex(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^[0-9a-fA-F]+$/.test(value) && (value.length === 32 || value.length === 16)) return value.toLowerCase();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  const hex = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('hex');
  return hex.length === 32 || hex.length === 16 ? hex : undefined;
}

function nanos(value: unknown): bigint | undefined {
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return BigInt(Math.round(value));
  return undefined;
}

function anyValue(value: unknown): SpanAttribute | undefined {
  if (!isRecord(value)) return undefined;
  if (typeof value['stringValue'] === 'string') return value['stringValue'];
  if (typeof value['boolValue'] === 'boolean') return value['boolValue'];
  if (typeof value['doubleValue'] === 'number') return value['doubleValue'];
  if (value['intValue'] !== undefined) return Number(value['intValue']);
  return undefined;
}

function attributes(list: unknown): Record<string, SpanAttribute> {
  const out: Record<string, SpanAttribute> = {};
  for (const kv of Array.isArray(list) ? list : []) {
    if (!isRecord(kv) || typeof kv['key'] !== 'string') continue;
    const v = anyValue(kv['value']);
    if (v !== undefined) out[kv['key']] = v;
  }
  return out;
}

/** Every span of an OTLP/JSON payload: `{ resourceSpans }`, or Jaeger's `{ result: { resourceSpans } }`. */
export function parseOtlpSpans(payload: unknown): ComponentSpan[] {
  const body = isRecord(payload) && isRecord(payload['result']) ? payload['result'] : payload;
  const resourceSpans = isRecord(body) && Array.isArray(body['resourceSpans']) ? body['resourceSpans'] : [];
  const out: ComponentSpan[] = [];
  for (const rs of resourceSpans) {
    if (!isRecord(rs)) continue;
    const resource = attributes(isRecord(rs['resource']) ? rs['resource']['attributes'] : undefined);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : '';
    const scopes = Array.isArray(rs['scopeSpans']) ? rs['scopeSpans'] : Array.isArray(rs['instrumentationLibrarySpans']) ? rs['instrumentationLibrarySpans'] : [];
    for (const scope of scopes) {
      for (const span of isRecord(scope) && Array.isArray(scope['spans']) ? scope['spans'] : []) {
        if (!isRecord(span)) continue;
        const traceId = idHex(span['traceId']);
        const spanId = idHex(span['spanId']);
        const startNs = nanos(span['startTimeUnixNano']);
        const endNs = nanos(span['endTimeUnixNano']);
        if (!traceId || !spanId || startNs === undefined || endNs === undefined || typeof span['name'] !== 'string') continue;
        const parentSpanId = idHex(span['parentSpanId']);
        const status = isRecord(span['status']) ? span['status'] : {};
        const code = status['code'];
        const links = (Array.isArray(span['links']) ? span['links'] : [])
          .map((l) => (isRecord(l) ? { traceId: idHex(l['traceId']), spanId: idHex(l['spanId']) } : {}))
          .filter((l): l is { traceId: string; spanId: string } => l.traceId !== undefined && l.spanId !== undefined);
        out.push({
          traceId,
          spanId,
          ...(parentSpanId ? { parentSpanId } : {}),
          name: span['name'],
          service,
          startNs,
          endNs: endNs < startNs ? startNs : endNs,
          attributes: attributes(span['attributes']),
          links,
          ...(code === 2 || code === 'STATUS_CODE_ERROR' ? { error: typeof status['message'] === 'string' ? status['message'] : 'error' } : {}),
        });
      }
    }
  }
  return out;
}

/** The spans of several payloads, each span once (a span found by two queries is one span). */
export function mergeSpans(payloads: readonly unknown[]): ComponentSpan[] {
  const byId = new Map<string, ComponentSpan>();
  for (const payload of payloads) for (const span of parseOtlpSpans(payload)) byId.set(`${span.traceId}/${span.spanId}`, span);
  return [...byId.values()].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
}

/**
 * The resolution the backend kept, read from the data: ns when any time has
 * digits below the microsecond, else µs (a store that keeps microseconds
 * returns multiples of 1000).
 */
export function spanResolutionMs(spans: readonly ComponentSpan[]): number {
  return spans.some((s) => s.startNs % 1000n !== 0n || s.endNs % 1000n !== 0n) ? 0.000001 : 0.001;
}
