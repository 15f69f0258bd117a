import { describe, expect, it } from 'vitest';
import { eventsHeldBack } from '../../../src/trace/held-back.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { loadFixture } from './recording-files.js';

const reasonOf = (o: { object?: unknown }) => (o.object as { reason?: string } | undefined)?.reason;

describe('events a trace may still receive (real recordings)', () => {
  it('none without a gap in an event watch, even with events missing (they are not coming)', () => {
    const { header, observations } = loadFixture('ready-inspect-no-events.ndjson');
    const trace = reconstruct(header, observations);
    expect(trace.anomalies.some((a) => a.kind === 'missing-event')).toBe(true);
    expect(eventsHeldBack(trace)).toEqual([]);
  });

  it('none after an API server restart once every event has come', () => {
    const { header, observations } = loadFixture('ready-big-apiserver-restart.ndjson');
    const trace = reconstruct(header, observations);
    expect(trace.gaps.some((g) => g.watch === 'event')).toBe(true);
    expect(eventsHeldBack(trace)).toEqual([]);
  });

  it('the milestones whose events the restart held back, before they arrive', () => {
    const { header, observations } = loadFixture('ready-big-apiserver-restart.ndjson');
    const before = observations.filter((o) => !((o.source === 'event' || o.source === 'eventsv1') && reasonOf(o) === 'Started'));
    const held = eventsHeldBack(reconstruct(header, before));
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((id) => id.endsWith('.started'))).toBe(true);
  });

  it('none for a pod that did not exist yet when the gap was over', () => {
    const { header, observations } = loadFixture('ready-big-apiserver-restart.ndjson');
    const before = observations.filter((o) => !((o.source === 'event' || o.source === 'eventsv1') && reasonOf(o) === 'Started'));
    const trace = reconstruct(header, before);
    expect(eventsHeldBack(trace).length).toBeGreaterThan(0);
    // the same gaps, moved to end a millisecond before the pod's t0: they held back none of its events
    const earlier = { ...trace, gaps: trace.gaps.map((g) => ({ ...g, from: trace.run.t0 - 1 - g.durationMs, to: trace.run.t0 - 1, unresolved: false })) };
    expect(eventsHeldBack(earlier)).toEqual([]);
    // still open when the run ended: it may hold back anything after its start
    const open = { ...earlier, gaps: earlier.gaps.map((g) => ({ ...g, unresolved: true })) };
    expect(eventsHeldBack(open).length).toBeGreaterThan(0);
  });

  it("none after a quiet event watch was closed and resumed at once, in the pod's life (the server was up)", () => {
    const { header, observations } = loadFixture('ready-big-apiserver-restart.ndjson');
    const before = observations.filter((o) => !((o.source === 'event' || o.source === 'eventsv1') && reasonOf(o) === 'Started'));
    const trace = reconstruct(header, before);
    const at = trace.run.t0 + 100;
    const idle = (durationMs: number) => ({
      ...trace,
      gaps: trace.gaps.map((g) => ({ ...g, reason: 'closed', error: 'idle timeout (no bytes for 30 s)', from: at, to: at + durationMs, durationMs, unresolved: false })),
    });
    expect(eventsHeldBack(idle(40))).toEqual([]);
    // closed for longer: the server may have been away, and the events with it
    expect(eventsHeldBack(idle(5000)).length).toBeGreaterThan(0);
  });
});
