/**
 * Waiting for the pod to be done, decided from the trace as it grows (the
 * same rule as `podtrace watch`: collect/done.ts), and for events an API
 * server outage held back.
 */
import { eventsHeldBack } from '../../trace/held-back.js';
import type { Trace } from '../../trace/types.js';
import { doneReason } from '../done.js';
import { postSentAt, type RunState } from './state.js';

/** A failure the pod has been stuck in for this long ends the wait even if it might still clear up. */
export const SETTLED_FAILURE_GRACE_MS = 60_000;

/**
 * How long a Ready run waits for events that an API server outage held back.
 * The kubelet and scheduler retry a failed event write (client-go's event
 * recorder: the first retry within 10 s, then every 10 s), so two retries land
 * within this window when the server was back in time.
 */
export const DELAYED_EVENTS_WAIT_MS = 25_000;

export type WaitResult = 'ready' | 'failed' | 'timeout' | 'interrupted' | 'gone';

/** Without --expose, or when the Service could not be made, Ready is enough; else its endpoint must be ready too. */
function exposed(state: RunState, trace: Trace): boolean {
  if (state.request.expose === undefined) return true;
  return trace.service?.error !== undefined || trace.milestones.some((m) => m.id === 'service.endpoint-ready');
}

export function waitForOutcome(state: RunState): Promise<WaitResult> {
  const { log, request, live, stop } = state;
  const clock = log.clock;
  const watchers = state.watchers!;
  const sentAt = postSentAt(state);
  return new Promise<WaitResult>((resolve) => {
    let finished = false;
    const finish = (result: WaitResult): void => {
      if (finished) return;
      finished = true;
      stopListening();
      clearInterval(ticker);
      clearTimeout(deadline);
      stop.signal.removeEventListener('abort', onInterrupt);
      resolve(result);
    };
    const stopListening = live.onUpdate((trace) => {
      state.traceAtStop = trace;
      const reason = doneReason(trace, {
        podGone: watchers.podGone,
        now: clock.now(),
        settleAfterMs: SETTLED_FAILURE_GRACE_MS,
        readyIsNotEnough: !exposed(state, trace),
      });
      if (reason !== undefined) finish(reason);
    });
    // Time-based rules (a failure that has settled) need evaluation without new observations too.
    const ticker = setInterval(() => live.schedule(), 1000);
    const remaining = Math.max(0, sentAt + request.timeoutMs - clock.now());
    const deadline = setTimeout(() => {
      if (finished) return;
      log.client('timeout', { afterMs: request.timeoutMs });
      finish('timeout');
    }, remaining);
    const onInterrupt = (): void => finish('interrupted');
    if (stop.signal.aborted) return finish('interrupted');
    stop.signal.addEventListener('abort', onInterrupt, { once: true });
    live.schedule();
  });
}

/**
 * An event watch had a gap and some milestones are timed from status because
 * their events are missing: the components may still be retrying those
 * writes. Waits (bounded by DELAYED_EVENTS_WAIT_MS and --timeout) until the
 * events arrive, so the trace keeps the components' own times.
 */
export async function awaitDelayedEvents(state: RunState): Promise<void> {
  const { log, request, live, stop } = state;
  const watchers = state.watchers!;
  const missing = eventsHeldBack(live.refresh());
  const maxMs = Math.min(DELAYED_EVENTS_WAIT_MS, postSentAt(state) + request.timeoutMs - log.clock.now());
  if (missing.length === 0 || maxMs <= 0 || stop.signal.aborted) return;
  state.progress.step(`waiting up to ${Math.ceil(maxMs / 1000)}s for ${missing.length} event(s) held back by the API server outage`);
  log.client('delayed-events-wait', { milestones: missing, maxMs });
  let still = missing;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      stopListening();
      clearTimeout(deadline);
      stop.signal.removeEventListener('abort', done);
      resolve();
    };
    const stopListening = live.onUpdate((trace) => {
      still = eventsHeldBack(trace);
      if (still.length === 0 || watchers.podGone) done();
    });
    const deadline = setTimeout(done, maxMs);
    stop.signal.addEventListener('abort', done, { once: true });
  });
  log.client('delayed-events-ended', { arrived: missing.filter((id) => !still.includes(id)), missing: still });
}
