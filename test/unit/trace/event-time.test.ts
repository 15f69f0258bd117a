import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventTime, nanosToMs, parseEventNameNanos, parseMicroTime, parseRfc3339, parseSecondsTime } from '../../../src/trace/event-time.js';

// 0x17f3a2b4c5d6e7f8 ns = 2019-11-21T09:27:30.157Z (and 406 ns... exactly as BigInt says).
const NAME = 'nginx-abc.17f3a2b4c5d6e7f8';
const NS = 0x17f3a2b4c5d6e7f8n;

describe('parseEventNameNanos', () => {
  it('reads the hex UnixNano suffix client-go appends', () => {
    expect(parseEventNameNanos(NAME)).toBe(NS);
    expect(parseEventNameNanos('web-7d4b9c.187a9f3e2b1c0d4e')).toBe(0x187a9f3e2b1c0d4en);
  });
  it('ignores names without such a suffix', () => {
    expect(parseEventNameNanos('nginx-abc')).toBeUndefined();
    expect(parseEventNameNanos('nginx.abc')).toBeUndefined();
    expect(parseEventNameNanos('0d6c6a1e-3d8e-4c8b-9d57-0c9f6b9a1a11')).toBeUndefined(); // uuid fallback names
    expect(parseEventNameNanos('pod.17F3A2B4C5D6E7F8')).toBeUndefined(); // Go's %x is lower case
  });
  it('round-trips any time between 2001 and 2262 exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1_000_000_000_000_000_000n, max: 9_223_372_036_854_775_807n }), (ns) => {
        expect(parseEventNameNanos(`pod-x.${ns.toString(16)}`)).toBe(ns);
      }),
    );
  });
});

describe('nanosToMs', () => {
  it('keeps the sub-ms fraction', () => {
    expect(nanosToMs(1_700_000_000_123_456_789n)).toBeCloseTo(1_700_000_000_123.456789, 3);
    expect(nanosToMs(1_500_000n)).toBe(1.5);
  });
});

describe('RFC 3339 times', () => {
  it('parses MicroTime with µs', () => {
    const t = parseMicroTime('2025-11-24T16:40:00.224567Z');
    expect(t).toMatchObject({ source: 'event-time-us', precisionMs: 0.001 });
    // A double holds epoch ms to ~0.2 µs: µs survive, the exact digits are not promised.
    expect(t!.ms - Date.UTC(2025, 10, 24, 16, 40, 0)).toBeCloseTo(224.567, 3);
  });
  it('parses offsets and treats second-precision fields as such', () => {
    expect(parseRfc3339('2025-11-24T22:10:00+05:30')?.ms).toBe(Date.UTC(2025, 10, 24, 16, 40, 0));
    expect(parseSecondsTime('2025-11-24T16:40:00Z', 'condition-s')).toMatchObject({ precisionMs: 1000, source: 'condition-s' });
    expect(parseSecondsTime('', 'condition-s')).toBeUndefined();
    expect(parseSecondsTime(null, 'status-field-s')).toBeUndefined();
    expect(parseRfc3339('yesterday')).toBeUndefined();
  });
});

describe('eventTime', () => {
  const at = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const nsMs = nanosToMs(NS);

  it('prefers the ns name suffix, keeping the exact ns', () => {
    const t = eventTime({ metadata: { name: NAME }, count: 1, firstTimestamp: at(nsMs), lastTimestamp: at(nsMs) });
    expect(t).toMatchObject({ source: 'event-name-ns', ns: NS.toString(), precisionMs: 0.000001 });
    expect(t!.ms).toBeCloseTo(nsMs, 3);
    expect(t!.fallbackReason).toBeUndefined();
  });

  it('falls back to firstTimestamp when the name has no suffix, and says so', () => {
    const t = eventTime({ metadata: { name: 'nginx-abc' }, firstTimestamp: '2025-11-24T16:40:00Z' });
    expect(t).toMatchObject({ source: 'event-timestamp-s', precisionMs: 1000 });
    expect(t!.fallbackReason).toMatch(/no \.<hex UnixNano> suffix/);
  });

  it('rejects a suffix more than a day from the event timestamps', () => {
    const t = eventTime({ metadata: { name: NAME }, firstTimestamp: '2025-11-24T16:40:00Z', lastTimestamp: '2025-11-24T16:40:00Z' });
    expect(t?.source).toBe('event-timestamp-s');
    expect(t!.fallbackReason).toMatch(/not a plausible time/);
  });

  it('uses eventTime (µs) for events.k8s.io events without a usable name', () => {
    const t = eventTime({ metadata: { name: 'x' }, eventTime: '2025-11-24T16:40:00.224567Z' });
    expect(t?.source).toBe('event-time-us');
  });

  it('with count > 1 the name still times the first occurrence, but not the last', () => {
    const e = { metadata: { name: NAME }, count: 5, firstTimestamp: at(nsMs), lastTimestamp: at(nsMs + 60_000) };
    expect(eventTime(e, { occurrence: 'first' })?.source).toBe('event-name-ns');
    const last = eventTime(e, { occurrence: 'last' });
    expect(last).toMatchObject({ source: 'event-timestamp-s', raw: at(nsMs + 60_000) });
    expect(last!.fallbackReason).toMatch(/count 5/);
  });

  it('does not trust the name of an aggregated event', () => {
    const t = eventTime({ metadata: { name: NAME }, count: 12, message: '(combined from similar events): Back-off pulling image', firstTimestamp: at(nsMs) });
    expect(t?.source).toBe('event-timestamp-s');
    expect(t!.fallbackReason).toMatch(/aggregated/);
  });

  it('returns undefined when there is no time at all', () => {
    expect(eventTime({ metadata: { name: 'no-time' } })).toBeUndefined();
  });
});
