import { describe, expect, it } from 'vitest';
import { addObservedServerTime, estimateClockOffset, newOffsetBounds } from '../../../src/trace/clock.js';

describe('estimateClockOffset', () => {
  it('uses 0 when the bounds allow it (same host)', () => {
    const b = newOffsetBounds();
    const postSent = 1_000_000;
    addObservedServerTime(b, 1_000_015, 0, 1_000_017, postSent); // event stamped 15 ms after the POST, seen at +17
    addObservedServerTime(b, 999_000, 1000, 1_000_020, postSent); // creationTimestamp truncated to the second
    // The creation second began 1 s before the POST: the server cannot be ahead at all.
    expect(estimateClockOffset(b)).toEqual({ estimateMs: 0, lowerMs: -2, upperMs: 0, samples: 4, method: 'zero-within-bounds' });
  });

  it('moves to the nearest bound when the server clock is ahead', () => {
    const b = newOffsetBounds();
    // The server is 500 ms ahead: an event at client 1_000_010 carries 1_000_510 and is seen at 1_000_012.
    addObservedServerTime(b, 1_000_510, 0, 1_000_012, 1_000_000);
    const c = estimateClockOffset(b);
    expect(c.method).toBe('nearest-bound');
    expect(c.estimateMs).toBe(498);
    expect(c.upperMs).toBe(510);
  });

  it('moves to the nearest bound when the server clock is behind', () => {
    const b = newOffsetBounds();
    addObservedServerTime(b, 999_310, 0, 1_000_012, 1_000_000);
    expect(estimateClockOffset(b)).toMatchObject({ estimateMs: -690, method: 'nearest-bound' });
  });

  it('says so when server times contradict each other', () => {
    const b = newOffsetBounds();
    addObservedServerTime(b, 1_000_900, 0, 1_000_100, 1_000_000); // lower 800
    addObservedServerTime(b, 1_000_050, 0, 1_000_500, 1_000_000); // upper 50
    expect(estimateClockOffset(b)).toMatchObject({ method: 'inconsistent-bounds', estimateMs: 425 });
  });

  it('has no bounds before anything server-stamped was seen, and ignores absurd samples', () => {
    const b = newOffsetBounds();
    expect(estimateClockOffset(b)).toEqual({ estimateMs: 0, lowerMs: null, upperMs: null, samples: 0, method: 'no-bounds' });
    addObservedServerTime(b, 0, 1000, 1_700_000_000_000, 1_700_000_000_000); // a 1970 timestamp
    expect(estimateClockOffset(b).samples).toBe(0);
  });
});
