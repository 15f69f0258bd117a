/**
 * Events a trace may still receive: after a gap in an event watch (an API
 * server outage), the components retry the event writes that failed, so the
 * milestones timed from status for want of their events can still get their
 * own times. Without such a gap in the pod's life, an event missing once the
 * pod is done is not coming (a simulated kubelet sends none, a rate-limited
 * one dropped it).
 */
import type { Gap, Trace } from './types.js';

/** A watch that ended without an error and was back within this long found the API server up. */
const RESUMED_AT_ONCE_MS = 1000;

/**
 * A gap during which the components' event writes may have failed. Not one that was over before
 * the pod's t0 (`watch` shares every gap with every pod it traces), nor one that ended without an
 * error and resumed at once: a quiet event watch is closed after 30 s without a byte and resumed
 * from its resourceVersion, which replays whatever the server stored meanwhile (seen at 50,000
 * pods: 14 such gaps kept 8,625 finished pods in memory until the end).
 */
function mayHoldBack(gap: Gap, t0: number): boolean {
  if (gap.unresolved === true) return true;
  if (gap.to < t0) return false;
  return !(gap.reason === 'closed' && gap.durationMs < RESUMED_AT_ONCE_MS);
}

/** The milestones whose events may still arrive; empty when there is nothing to wait for. */
export function eventsHeldBack(trace: Trace): string[] {
  const t0 = trace.run.t0;
  if (!trace.gaps.some((g) => (g.watch === 'event' || g.watch === 'eventsv1') && mayHoldBack(g, t0))) return [];
  return trace.anomalies.flatMap((a) => (a.kind === 'missing-event' && a.milestone !== undefined ? [a.milestone] : []));
}
