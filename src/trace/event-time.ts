/**
 * Server-side times, with the source each one came from and how precise it is.
 * All values are milliseconds since the Unix epoch on the clock of whichever
 * component stamped them (kubelet, scheduler, API server); reconstruct()
 * moves them onto the client's timeline.
 */

export type TimeSource =
  | 'event-name-ns' // client-go recorder: the event name ends in .<hex UnixNano>
  | 'event-time-us' // events.k8s.io/v1 eventTime / series.lastObservedTime (MicroTime)
  | 'event-timestamp-s' // core/v1 firstTimestamp / lastTimestamp / metadata.creationTimestamp
  | 'status-field-s' // status.startTime, state.running.startedAt, ...
  | 'condition-s' // status.conditions[].lastTransitionTime
  | 'watch-observed' // the client saw the change on its watch (an upper bound, ms)
  | 'client-clock' // podtrace measured it itself
  | 'probe-clock' // podtrace's probe pod measured it, on its node's clock (create --expose)
  | 'span' // a component's own span (OpenTelemetry), on its clock, ns or µs as the trace backend kept it
  | 'bounded-by'; // a coarse time capped by a precise milestone that must come after it (see Milestone.boundedBy)

/** Resolution of each source; watch-observed is also an upper bound (delivery latency). */
export const PRECISION_MS: Readonly<Record<TimeSource, number>> = {
  'event-name-ns': 0.000001,
  'event-time-us': 0.001,
  'event-timestamp-s': 1000,
  'status-field-s': 1000,
  'condition-s': 1000,
  'watch-observed': 1,
  'client-clock': 0.001,
  // Nominal: a probe's time carries its own precision (half the interval between two tries).
  'probe-clock': 0.001,
  // Nominal: a span's precision is the resolution its backend kept, read from the data (otlp-spans.ts).
  span: 0.001,
  // Nominal only: a bounded milestone carries its own precision (the width of its remaining interval).
  'bounded-by': 1000,
};

/** Best first: used to choose among candidates for one milestone. */
export const SOURCE_RANK: readonly TimeSource[] = [
  'event-name-ns',
  'span',
  'event-time-us',
  'client-clock',
  'probe-clock',
  'watch-observed',
  'event-timestamp-s',
  'status-field-s',
  'condition-s',
  'bounded-by', // never a candidate: reconstruct() derives it
];

export interface ParsedTime {
  /** ms since epoch (emitting component's clock), with sub-ms fraction where the source has it. */
  ms: number;
  source: TimeSource;
  precisionMs: number;
  /** Exact nanoseconds since epoch, as a decimal string (event-name-ns only: a number cannot hold them). */
  ns?: string;
  /** The text the time was read from. */
  raw: string;
  /** Set when a better source was present but unusable, saying why. */
  fallbackReason?: string;
}

const NS_PER_MS = 1_000_000n;
const DAY_MS = 86_400_000;
// Go's %x of a positive int64; UnixNano of any date between 2001 and 2262 has 15-16 hex digits.
const NAME_SUFFIX = /\.([0-9a-f]{15,16})$/;
// Bounds for a name suffix that has nothing to be compared with: 2015..2100.
const MIN_PLAUSIBLE_MS = Date.UTC(2015, 0, 1);
const MAX_PLAUSIBLE_MS = Date.UTC(2100, 0, 1);

export function nanosToMs(ns: bigint): number {
  return Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
}

/** The UnixNano encoded in a client-go event name, or undefined when the name has no such suffix. */
export function parseEventNameNanos(name: string): bigint | undefined {
  const m = NAME_SUFFIX.exec(name);
  if (!m) return undefined;
  const ns = BigInt(`0x${m[1]}`);
  return ns > 0n ? ns : undefined;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 with any number of fraction digits (Date.parse keeps only ms; MicroTime has µs). */
export function parseRfc3339(value: string): { ms: number; fractionDigits: number } | undefined {
  const m = RFC3339.exec(value.trim());
  if (!m) return undefined;
  const [, date, time, fraction = '', zone] = m;
  const whole = Date.parse(`${date}T${time}${zone!.toUpperCase()}`);
  if (Number.isNaN(whole)) return undefined;
  const fractionMs = fraction ? Number(`0.${fraction}`) * 1000 : 0;
  return { ms: whole + fractionMs, fractionDigits: fraction.length };
}

/** A metav1.Time field (RFC 3339, truncated to the second by the API server). */
export function parseSecondsTime(
  value: unknown,
  source: 'event-timestamp-s' | 'status-field-s' | 'condition-s',
): ParsedTime | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const parsed = parseRfc3339(value);
  if (!parsed) return undefined;
  return { ms: parsed.ms, source, precisionMs: PRECISION_MS[source], raw: value };
}

/** A metav1.MicroTime field (RFC 3339 with 6 fraction digits). */
export function parseMicroTime(value: unknown): ParsedTime | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const parsed = parseRfc3339(value);
  if (!parsed) return undefined;
  // A MicroTime serialised without fraction digits is still exact to the µs only if it had them.
  const source: TimeSource = parsed.fractionDigits >= 6 ? 'event-time-us' : 'event-timestamp-s';
  return {
    ms: parsed.ms,
    source,
    precisionMs: parsed.fractionDigits >= 6 ? PRECISION_MS['event-time-us'] : 10 ** (3 - Math.min(3, parsed.fractionDigits)),
    raw: value,
  };
}

/** The fields of core/v1 and events.k8s.io/v1 Events that carry time. */
export interface EventTimeFields {
  metadata?: { name?: string; creationTimestamp?: string };
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
  deprecatedCount?: number;
  deprecatedFirstTimestamp?: string | null;
  deprecatedLastTimestamp?: string | null;
  message?: string;
  note?: string;
}

export interface EventTimeOptions {
  /**
   * 'first' (default): when the event first happened. The recorder keeps the
   * first occurrence's name when it folds repeats into count > 1, so the name
   * still times the first occurrence, except for events the aggregator rewrote
   * ("(combined from similar events): ...").
   * 'last': the latest occurrence; with count > 1 the name says nothing about it.
   */
  occurrence?: 'first' | 'last';
}

function eventCount(e: EventTimeFields): number {
  return e.series?.count ?? e.count ?? e.deprecatedCount ?? 1;
}

function isAggregated(e: EventTimeFields): boolean {
  const text = e.message ?? e.note ?? '';
  return text.startsWith('(combined from similar events)');
}

/**
 * The best time of an event, saying which source it came from and, when the
 * ns name suffix was not used, why not.
 */
export function eventTime(event: EventTimeFields, options: EventTimeOptions = {}): ParsedTime | undefined {
  const occurrence = options.occurrence ?? 'first';
  const count = eventCount(event);
  const name = event.metadata?.name ?? '';

  const first =
    parseMicroTime(event.eventTime) ??
    parseSecondsTime(event.firstTimestamp ?? event.deprecatedFirstTimestamp, 'event-timestamp-s');
  const last =
    parseMicroTime(event.series?.lastObservedTime) ??
    parseSecondsTime(event.lastTimestamp ?? event.deprecatedLastTimestamp, 'event-timestamp-s');
  const created = parseSecondsTime(event.metadata?.creationTimestamp, 'event-timestamp-s');
  const references = [first, last, created].filter((t): t is ParsedTime => t !== undefined);

  let fallbackReason: string | undefined;
  const ns = parseEventNameNanos(name);
  if (ns === undefined) {
    fallbackReason = 'event name has no .<hex UnixNano> suffix';
  } else if (occurrence === 'last' && count > 1) {
    fallbackReason = `event repeated (count ${count}): its name times the first occurrence only`;
  } else if (isAggregated(event)) {
    fallbackReason = 'event was aggregated from similar events: its name times the aggregate';
  } else {
    const ms = nanosToMs(ns);
    const plausible =
      references.length > 0
        ? references.some((r) => Math.abs(r.ms - ms) <= DAY_MS)
        : ms >= MIN_PLAUSIBLE_MS && ms <= MAX_PLAUSIBLE_MS;
    if (plausible) {
      return { ms, source: 'event-name-ns', precisionMs: PRECISION_MS['event-name-ns'], ns: ns.toString(), raw: name };
    }
    fallbackReason = 'event name suffix is not a plausible time (more than a day from the event timestamps)';
  }

  const chosen = occurrence === 'last' && count > 1 ? (last ?? first ?? created) : (first ?? last ?? created);
  return chosen ? { ...chosen, fallbackReason } : undefined;
}
