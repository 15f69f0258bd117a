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
});
