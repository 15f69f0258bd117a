/**
 * Client and server clocks differ. Causality bounds the difference
 * (offset = server - client):
 * - anything server-stamped happened before the client observed it:
 *   offset >= serverTime - observedAt (with a 1-s field's truncated value,
 *   still a valid lower bound);
 * - anything server-stamped about the new pod happened after the POST was sent:
 *   offset <= serverTime + resolution - postSentAt (creationTimestamp
 *   truncated to the second gives creationTs + 1000 - postSent).
 * On a single-host cluster 0 is inside the bounds and is used as is; when the
 * bounds exclude 0 the nearest bound is the smallest correction that fits.
 */
import type { ClockOffset } from './types.js';

// Clocks a day apart are not skew but a broken timestamp: such a sample would drag every time with it.
const MAX_PLAUSIBLE_SKEW_MS = 86_400_000;

export interface OffsetBounds {
  lower: number[];
  upper: number[];
}

export function newOffsetBounds(): OffsetBounds {
  return { lower: [], upper: [] };
}

/** A server time [serverMs, serverMs + resolutionMs) seen by the client at observedAt. */
export function addObservedServerTime(
  bounds: OffsetBounds,
  serverMs: number,
  resolutionMs: number,
  observedAt: number,
  postSentAt: number | undefined,
): void {
  if (!Number.isFinite(serverMs) || Math.abs(serverMs - observedAt) > MAX_PLAUSIBLE_SKEW_MS) return;
  bounds.lower.push(serverMs - observedAt);
  if (postSentAt !== undefined) bounds.upper.push(serverMs + resolutionMs - postSentAt);
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export function estimateClockOffset(bounds: OffsetBounds): ClockOffset {
  const samples = bounds.lower.length + bounds.upper.length;
  const lowerMs = bounds.lower.length ? round(bounds.lower.reduce((a, b) => Math.max(a, b))) : null;
  const upperMs = bounds.upper.length ? round(bounds.upper.reduce((a, b) => Math.min(a, b))) : null;
  if (lowerMs === null && upperMs === null) {
    return { estimateMs: 0, lowerMs, upperMs, samples, method: 'no-bounds' };
  }
  if (lowerMs !== null && upperMs !== null && lowerMs > upperMs) {
    // Components with different clocks (kubelet on another host, or skew
    // between API server and kubelet): no single offset fits them all.
    return { estimateMs: (lowerMs + upperMs) / 2, lowerMs, upperMs, samples, method: 'inconsistent-bounds' };
  }
  const lo = lowerMs ?? -Infinity;
  const hi = upperMs ?? Infinity;
  if (lo <= 0 && 0 <= hi) return { estimateMs: 0, lowerMs, upperMs, samples, method: 'zero-within-bounds' };
  return { estimateMs: lo > 0 ? lo : hi, lowerMs, upperMs, samples, method: 'nearest-bound' };
}
