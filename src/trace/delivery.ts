/**
 * How late the watches delivered what podtrace saw, measured in this run. A
 * watch sighting is an upper bound of when a change happened; how far it may
 * be from the change is the delivery lag, measured where both ends are known:
 * - an event stamped by its emitter (the kubelet's nanosecond event name, the
 *   scheduler's microsecond eventTime), first seen as the watch delivered it:
 *   sighting - stamp, on the client timeline (the stamp moved by the clock
 *   offset). It includes the emitter's own queueing before the write, so it
 *   overstates the watch's share: a bound, not an estimate.
 * - the pod's ADDED after the POST's response: how much later the watch
 *   delivered the stored pod than the response did (0 when it came first).
 * Events that were held back (first seen in a relist, stamped within a watch
 * gap) or aggregated (count > 1) are not deliveries and are left out. The
 * bound is the largest lag measured; with none, the precision of a sighting
 * is its clock's and the trace says the lag was not measured.
 */
import type { Context } from './context.js';
import { roundMs } from './format-ms.js';
import type { NormalizedEvent } from './kube-objects.js';
import type { WatchDelivery } from './types.js';

function quantile(sorted: readonly number[], q: number): number {
  const index = (sorted.length - 1) * q;
  const lo = Math.floor(index);
  const hi = Math.ceil(index);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (index - lo);
}

/** Client-timeline intervals during which a watch was down. */
function gapIntervals(ctx: Context): Array<[number, number]> {
  return (ctx.client.get('watch-gap') ?? []).map((o) => [Number(o.data?.['from']), Number(o.data?.['to'])] as [number, number]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
}

function eventLag(e: NormalizedEvent, offsetMs: number, gaps: ReadonlyArray<[number, number]>): number | undefined {
  if (!e.firstSeenOnWatch || e.count !== 1 || !e.first) return undefined;
  if (e.first.source !== 'event-name-ns' && e.first.source !== 'event-time-us') return undefined;
  const stamped = e.first.ms - offsetMs;
  if (gaps.some(([from, to]) => stamped <= to && e.firstObservedAt >= from)) return undefined;
  return Math.max(0, e.firstObservedAt - stamped);
}

export function measureDelivery(ctx: Context, offsetMs: number): WatchDelivery {
  const gaps = gapIntervals(ctx);
  const events = [...ctx.podEvents, ...ctx.nodeEvents].map((e) => eventLag(e, offsetMs, gaps)).filter((lag): lag is number => lag !== undefined);
  const added = ctx.snapshots.find((s) => s.type === 'ADDED');
  const addedLag = added !== undefined && ctx.postResponseAt !== undefined ? Math.max(0, added.observedAt - ctx.postResponseAt) : undefined;
  const lags = [...events, ...(addedLag !== undefined ? [addedLag] : [])].sort((a, b) => a - b);
  if (lags.length === 0) return { samples: 0, events: 0 };
  return {
    samples: lags.length,
    events: events.length,
    ...(addedLag !== undefined ? { afterPostResponseMs: roundMs(addedLag) } : {}),
    medianMs: roundMs(quantile(lags, 0.5)),
    p90Ms: roundMs(quantile(lags, 0.9)),
    maxMs: roundMs(lags.at(-1)!),
  };
}
