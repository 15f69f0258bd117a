/**
 * OTLP/JSON traces (the body of a POST to /v1/traces; Jaeger and Tempo
 * import it): one trace per pod, a root span "pod start" and one child span
 * per step. IDs are derived from the pod (uid, else namespace/name and t0)
 * with SHA-256, so exporting the same trace twice gives the same IDs.
 *
 * Times are nanoseconds since the Unix epoch as decimal strings, on the
 * client's timeline with server times already corrected by the trace's clock
 * offset. The root span covers every step, from the first client step
 * (before the POST) to the end of the run.
 */
import { createHash } from 'node:crypto';
import type { RunSet } from '../analysis/runset.js';
import type { Milestone, Trace } from '../trace/types.js';
import { failed, failingStep, milestoneIndex, runSpan, steps } from './run-facts.js';

export type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

/** SPAN_KIND_INTERNAL, SPAN_KIND_CLIENT */
const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_CLIENT = 3;
/** STATUS_CODE_OK / STATUS_CODE_ERROR */
const STATUS_OK = 1;
const STATUS_ERROR = 2;

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  events?: Array<{ timeUnixNano: string; name: string; attributes: KeyValue[] }>;
  status?: { code: number; message?: string };
}

export interface OtlpTraces {
  resourceSpans: Array<{
    resource: { attributes: KeyValue[] };
    scopeSpans: Array<{ scope: { name: string; version?: string }; spans: OtlpSpan[] }>;
  }>;
}

export const ROOT_SPAN_NAME = 'pod start';

function attr(key: string, value: string | number | boolean | undefined): KeyValue[] {
  if (value === undefined || value === '') return [];
  if (typeof value === 'string') return [{ key, value: { stringValue: value } }];
  if (typeof value === 'boolean') return [{ key, value: { boolValue: value } }];
  return Number.isInteger(value) ? [{ key, value: { intValue: String(value) } }] : [{ key, value: { doubleValue: value } }];
}

function hex(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * The pod's trace id: the run's own (its requests carried it, so the API
 * server's spans of them share or link to it), else 32 hex digits derived
 * from the pod, the same every time this pod is exported.
 */
export function traceIdOf(trace: Trace): string {
  if (trace.run.otel) return trace.run.otel.traceId;
  const who = trace.pod.uid ?? `${trace.pod.namespace}/${trace.pod.name}@${trace.run.t0}`;
  return hex(`podtrace trace ${who}`, 32);
}

/** The span podtrace's own steps hang from: the run's, else derived from the trace id. */
function rootSpanIdOf(trace: Trace): string {
  return trace.run.otel?.rootSpanId ?? hex(`${traceIdOf(trace)} root`, 16);
}

/**
 * Client-timeline milliseconds (fractional) as integer nanoseconds since the
 * epoch, in a string. A double near 1.8e12 ms resolves about 0.24 µs, so the
 * value is rounded to whole microseconds; whole and fraction are converted
 * apart so that the 2^53 limit of doubles never applies.
 */
export function unixNanos(ms: number): string {
  const whole = Math.floor(ms);
  let micros = Math.round((ms - whole) * 1000);
  let wholeMs = BigInt(whole);
  if (micros >= 1000) {
    wholeMs += 1n;
    micros -= 1000;
  }
  return (wholeMs * 1_000_000n + BigInt(micros) * 1000n).toString();
}

function milestoneEvent(m: Milestone): { timeUnixNano: string; name: string; attributes: KeyValue[] } {
  return {
    timeUnixNano: unixNanos(m.at),
    name: m.label,
    attributes: [...attr('podtrace.milestone', m.id), ...attr('podtrace.source', m.source), ...attr('podtrace.precision_ms', m.precisionMs), ...attr('podtrace.detail', m.detail)],
  };
}

/** --observe: restarts and probe failures after Ready, as events of the root span. */
function observedEvents(trace: Trace): Array<{ timeUnixNano: string; name: string; attributes: KeyValue[] }> {
  const o = trace.observed;
  if (!o) return [];
  return [
    ...o.restarts.map((r) => ({
      timeUnixNano: unixNanos(r.at),
      name: `restart ${r.container}${r.reason ? `: ${r.reason}` : ''}`,
      attributes: [...attr('k8s.container.name', r.container), ...attr('podtrace.restart_count', r.restartCount), ...attr('podtrace.reason', r.reason), ...attr('podtrace.exit_code', r.exitCode), ...attr('podtrace.precision_ms', r.precisionMs)],
    })),
    ...o.probeFailures.map((f) => ({
      timeUnixNano: unixNanos(f.at),
      name: `${f.probe} probe failed: ${f.container}`,
      attributes: [...attr('k8s.container.name', f.container), ...attr('podtrace.count', f.count), ...attr('podtrace.message', f.message)],
    })),
  ];
}

/** --observe: the window and the peak usage per container, on the root span. */
function observedAttributes(trace: Trace): KeyValue[] {
  const o = trace.observed;
  if (!o) return [];
  return [
    ...attr('podtrace.observed_ms', o.durationMs),
    ...attr('podtrace.observed.restarts', o.restarts.length),
    ...o.usage.peak.flatMap((p) => [
      ...attr(`podtrace.observed.${p.container}.cpu_peak_millicores`, p.cpuMillicores),
      ...attr(`podtrace.observed.${p.container}.memory_peak_bytes`, p.memoryBytes),
    ]),
  ];
}

function podSpans(trace: Trace): OtlpSpan[] {
  const traceId = traceIdOf(trace);
  const milestones = milestoneIndex(trace);
  const runSteps = steps(trace);
  const span = runSpan(trace);
  const rootStart = Math.min(trace.run.t0, ...runSteps.map((s) => milestones.get(s.from)!.at));
  const rootEnd = Math.max(span.end, trace.run.lastObservedAt);
  const rootId = rootSpanIdOf(trace);
  const o = trace.outcome;
  const isFailed = failed(trace);

  const root: OtlpSpan = {
    traceId,
    spanId: rootId,
    name: ROOT_SPAN_NAME,
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: unixNanos(rootStart),
    endTimeUnixNano: unixNanos(Math.max(rootStart, rootEnd)),
    attributes: [
      ...attr('podtrace.outcome', o.class),
      ...attr('podtrace.outcome.reason', o.reason),
      ...attr('podtrace.cause', o.cause?.code),
      ...attr('podtrace.cause.chain', o.cause?.chain.join(' ← ')),
      ...attr('podtrace.explain', trace.explain?.summary),
      ...attr('podtrace.ready_ms', o.readyAfterMs),
      ...attr('podtrace.image', trace.run.options.image),
      ...attr('podtrace.t0_source', trace.run.t0Source),
      ...attr('podtrace.clock_offset_ms', trace.clock.estimateMs),
      ...attr('k8s.pod.uid', trace.pod.uid),
      ...observedAttributes(trace),
    ],
    events: [...trace.milestones.map(milestoneEvent), ...observedEvents(trace)],
  };
  if (isFailed) root.status = { code: STATUS_ERROR, message: [o.class, o.reason, o.message].filter(Boolean).join(': ') };
  else if (o.class === 'ready') root.status = { code: STATUS_OK };

  const failing = failingStep(trace);
  const children = runSteps.map((step, i): OtlpSpan => {
    const from = milestones.get(step.from)!;
    const to = milestones.get(step.to)!;
    return {
      traceId,
      spanId: hex(`${traceId} ${i} ${step.id}`, 16),
      parentSpanId: rootId,
      name: step.container ? `${step.container}: ${step.label}` : step.label,
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: unixNanos(from.at),
      endTimeUnixNano: unixNanos(Math.max(from.at, to.at)),
      attributes: [
        ...attr('podtrace.step', step.id),
        ...attr('podtrace.from', step.from),
        ...attr('podtrace.to', step.to),
        ...attr('podtrace.component', step.component ?? to.component),
        ...attr('podtrace.source', to.source),
        ...attr('podtrace.from.source', from.source),
        ...attr('podtrace.precision_ms', from.precisionMs + to.precisionMs),
        ...attr('podtrace.duration_ms', step.durationMs),
        ...attr('k8s.container.name', step.container),
      ],
      ...(failing?.id === step.id ? { status: { code: STATUS_ERROR, message: [o.class, o.reason, o.message].filter(Boolean).join(': ') } } : {}),
    };
  });
  return [root, ...children, ...requestSpans(trace, traceId, rootId)];
}

/**
 * podtrace's requests as client spans, with the span ids their traceparent
 * carried: the API server's spans of them (callers in system:masters) hang
 * from these; their audit-id attribute finds them for everyone else.
 */
function requestSpans(trace: Trace, traceId: string, rootId: string): OtlpSpan[] {
  return (trace.run.otel?.requests ?? []).flatMap((request) => {
    if (request.durationMs === undefined) return [];
    const start = trace.run.t0 + request.offsetMs;
    return [
      {
        traceId,
        spanId: request.spanId,
        parentSpanId: rootId,
        name: `request ${request.call}`,
        kind: SPAN_KIND_CLIENT,
        startTimeUnixNano: unixNanos(start),
        endTimeUnixNano: unixNanos(start + request.durationMs),
        attributes: [...attr('podtrace.call', request.call), ...attr('audit-id', request.auditId)],
      },
    ];
  });
}

/**
 * The components' spans of the run that are not in its trace (the kubelet's
 * syncs always, the API server's for callers outside system:masters and
 * system:monitoring), copied under the run's trace id so that one trace holds
 * podtrace's steps and the components' spans: new span ids derived from the
 * originals, the original in `podtrace.copied_from`, each component as its own
 * service. Spans the API server put in the run's trace stay where they are.
 */
function componentCopies(trace: Trace, traceId: string, rootId: string): Array<{ service: string; spans: OtlpSpan[] }> {
  const steps = (trace.spans?.steps ?? []).filter((s) => s.traceId !== traceId);
  const copyId = (t: string, id: string) => hex(`podtrace copy ${t} ${id}`, 16);
  const copied = new Set(steps.map((s) => `${s.traceId}/${s.spanId}`));
  const byService = new Map<string, OtlpSpan[]>();
  for (const s of steps) {
    const parent = s.parentSpanId !== undefined && copied.has(`${s.traceId}/${s.parentSpanId}`) ? copyId(s.traceId, s.parentSpanId) : rootId;
    const span: OtlpSpan = {
      traceId,
      spanId: copyId(s.traceId, s.spanId),
      parentSpanId: parent,
      name: s.name,
      kind: SPAN_KIND_INTERNAL,
      startTimeUnixNano: s.startUnixNano,
      endTimeUnixNano: s.endUnixNano,
      attributes: [
        ...attr('podtrace.copied_from', `${s.traceId}/${s.spanId}`),
        ...attr('podtrace.label', s.label),
        ...attr('podtrace.component', s.component),
        ...attr('k8s.container.name', s.container),
      ],
      ...(s.error ? { status: { code: STATUS_ERROR, message: s.error } } : {}),
    };
    byService.set(s.service, [...(byService.get(s.service) ?? []), span]);
  }
  return [...byService.entries()].map(([service, spans]) => ({ service, spans }));
}

/** One run's resources: podtrace's spans of it, then a copy per component whose spans it read. */
export function otlpRunResources(set: Pick<RunSet, 'label'>, trace: Trace, toolVersion: string): OtlpTraces['resourceSpans'] {
  return [
    {
      resource: {
        attributes: [
          ...attr('service.name', 'podtrace'),
          ...attr('service.version', trace.toolVersion || toolVersion),
          ...attr('k8s.pod.name', trace.pod.name),
          ...attr('k8s.namespace.name', trace.pod.namespace),
          ...attr('k8s.node.name', trace.pod.nodeName ?? trace.node?.name),
          ...attr('k8s.cluster.name', trace.cluster?.cluster),
          ...attr('podtrace.set', set.label),
        ],
      },
      scopeSpans: [{ scope: { name: 'podtrace', version: toolVersion }, spans: podSpans(trace) }],
    },
    ...componentCopies(trace, traceIdOf(trace), rootSpanIdOf(trace)).map(({ service, spans }) => ({
      resource: { attributes: [...attr('service.name', service), ...attr('k8s.pod.name', trace.pod.name), ...attr('k8s.namespace.name', trace.pod.namespace)] },
      scopeSpans: [{ scope: { name: 'podtrace copy', version: toolVersion }, spans }],
    })),
  ];
}

export function otlpTraces(sets: readonly RunSet[], toolVersion: string): OtlpTraces {
  return { resourceSpans: sets.flatMap((set) => set.runs.flatMap((trace) => otlpRunResources(set, trace, toolVersion))) };
}

/** The same JSON a piece at a time, for run sets too big to hold: the opening, each run's resources (a comma before all but the first run's), the closing. */
export const otlpStream = {
  start: '{"resourceSpans":[',
  run(set: Pick<RunSet, 'label'>, trace: Trace, toolVersion: string, first: boolean): string {
    const text = otlpRunResources(set, trace, toolVersion)
      .map((r) => JSON.stringify(r))
      .join(',');
    return first ? text : `,${text}`;
  },
  end: ']}\n',
};

export function renderOtlp(sets: readonly RunSet[], toolVersion: string): string {
  return `${JSON.stringify(otlpTraces(sets, toolVersion))}\n`;
}
