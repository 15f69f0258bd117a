/**
 * Events a trace may still receive: after a gap in an event watch (an API
 * server outage), the components retry the event writes that failed, so the
 * milestones timed from status for want of their events can still get their
 * own times. Without such a gap, an event missing once the pod is done is
 * not coming (a simulated kubelet sends none, a rate-limited one dropped it).
 */
import type { Trace } from './types.js';

/** The milestones whose events may still arrive; empty when there is nothing to wait for. */
export function eventsHeldBack(trace: Trace): string[] {
  if (!trace.gaps.some((g) => g.watch === 'event' || g.watch === 'eventsv1')) return [];
  return trace.anomalies.flatMap((a) => (a.kind === 'missing-event' && a.milestone !== undefined ? [a.milestone] : []));
}
