/** podtrace probe's schedule: rounds on time, a late one counted, and the schedule moved by it. */
import { describe, expect, it } from 'vitest';
import { nextRound } from '../../../src/commands/probe.js';

describe('nextRound', () => {
  const middle = () => 0.5; // no jitter
  it('on time: not late, the next an interval after it was due', () => {
    expect(nextRound(10_000, 10_050, 60_000, middle)).toEqual({ lateMs: 0, nextDue: 70_000 });
  });

  it('jitter: up to a tenth of the interval either way', () => {
    expect(nextRound(0, 0, 60_000, () => 0).nextDue).toBe(54_000);
    expect(nextRound(0, 0, 60_000, () => 1).nextDue).toBe(66_000);
  });

  it('a round that starts after the one before overran: counted late, and the next an interval after it, not at once', () => {
    // due at 10 s, the round before took until 25 s
    expect(nextRound(10_000, 25_000, 2_000, middle)).toEqual({ lateMs: 15_000, nextDue: 27_000 });
  });
});
