/**
 * Places each milestone of the table on the client timeline from its best
 * candidate, with its source and precision, and turns consecutive milestones
 * into phases. Pure.
 */
import { watchPrecision, type Context } from './context.js';
import { SOURCE_RANK, type TimeSource } from './event-time.js';
import { num } from './kube-objects.js';
import { formatMs, formatOffset, roundMs } from './format-ms.js';
import type { Candidate, MilestoneSpec } from './milestone-spec.js';
import type { Anomaly, ContainerInfo, Milestone, Phase } from './types.js';

/** A watch sighting this much later than the end of its 1-s field interval came late (gap, relist, backlog). */
export const LATE_OBSERVATION_MS = 500;

interface Placed {
  spec: MilestoneSpec;
  /** Row in the table: the tie-breaker for equal times. */
  index: number;
  milestone: Milestone;
  /** The interval the happening must lie in, on the client timeline, from its own evidence and its causal neighbours. */
  lo: number;
  hi: number;
  /** Timed from the happening itself (lo = hi = at): never moved. */
  exact: boolean;
}

function rankOf(c: Candidate): number {
  return SOURCE_RANK.indexOf(c.source);
}

function toClient(c: Candidate, offsetMs: number): number {
  return c.clientMs ?? c.serverMs! - offsetMs;
}

/**
 * Where a candidate lands on the client timeline. A 1-s field names an
 * interval [t, t + 1 s); it is placed at the earliest point of that interval
 * that is neither before its causal predecessors (`prevAt`, the latest of
 * them) nor after the client saw it.
 */
function place(c: Candidate, offsetMs: number, prevAt: number | undefined): number {
  const lo = toClient(c, offsetMs);
  if (c.clientMs !== undefined || c.precisionMs < 1000) return lo;
  const hi = lo + c.precisionMs - 0.001;
  const cap = Math.min(hi, c.observedAt ?? hi);
  const floor = Math.max(lo, prevAt ?? lo);
  return floor <= cap ? floor : Math.max(lo, cap);
}

function choose(
  spec: MilestoneSpec,
  candidates: Candidate[],
  offsetMs: number,
  anomalies: Anomaly[],
): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const sorted = [...candidates].sort((a, b) => rankOf(a) - rankOf(b));
  let best = sorted[0]!;
  if (best.source === 'watch-observed') {
    const fieldCandidate = sorted.find((c) => c.serverMs !== undefined && c.precisionMs >= 1000);
    if (fieldCandidate) {
      const fieldEnd = toClient(fieldCandidate, offsetMs) + fieldCandidate.precisionMs;
      const lateBy = best.clientMs! - fieldEnd;
      if (lateBy > LATE_OBSERVATION_MS) {
        anomalies.push({
          kind: 'late-observation',
          milestone: spec.id,
          rawMs: roundMs(lateBy),
          explanation: `the watch saw ${spec.id} ${formatMs(lateBy)} after its own timestamp allows (the kubelet's batched status update, a gap, relist or backlog): timed from ${fieldCandidate.evidence} instead`,
        });
        best = { ...fieldCandidate, fallback: fieldCandidate.fallback ?? 'watch sighting came late: timed from the status field' };
      }
    }
  }
  return best;
}

/** Sources that time the happening itself; the others say "by then" (watch) or "within this second". */
const EXACT_SOURCES: ReadonlySet<TimeSource> = new Set(['event-name-ns', 'event-time-us', 'client-clock']);

/** What the chosen candidate says about when the milestone happened. */
export function interval(spec: MilestoneSpec, c: Candidate, at: number, offsetMs: number): { lo: number; hi: number; exact: boolean } {
  if (c.clientMs !== undefined) {
    if (c.source === 'client-clock' && !spec.timedWhenSeen) return { lo: at, hi: at, exact: true };
    return { lo: -Infinity, hi: at, exact: false }; // seen by then
  }
  if (c.stampedAfter) return { lo: -Infinity, hi: at, exact: false }; // stamped once done
  if (EXACT_SOURCES.has(c.source) || c.precisionMs < 1000) return { lo: at, hi: at, exact: true };
  const start = toClient(c, offsetMs);
  const hi = Math.min(start + c.precisionMs, c.observedAt ?? Infinity);
  // A condition's lastTransitionTime is stamped when the kubelet next writes the status, at or after
  // the change itself: it bounds the change from above only.
  return { lo: c.source === 'condition-s' ? -Infinity : start, hi, exact: false };
}

/** The milestones present among `ids`, standing in for absent ones with their own neighbours (transitively). */
export function present(
  ids: readonly string[],
  placed: ReadonlyMap<string, Placed>,
  next: (id: string) => readonly string[],
  seen = new Set<string>(),
): Placed[] {
  const out: Placed[] = [];
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const p = placed.get(id);
    if (p) out.push(p);
    else out.push(...present(next(id), placed, next, seen));
  }
  return out;
}

export function buildMilestones(ctx: Context, specs: MilestoneSpec[], offsetMs: number, t0: number, anomalies: Anomaly[]): Milestone[] {
  const byId = new Map(specs.map((s) => [s.id, s]));
  const successors = new Map<string, string[]>();
  for (const s of specs) for (const before of s.after ?? []) successors.set(before, [...(successors.get(before) ?? []), s.id]);
  const predsOf = (id: string) => byId.get(id)?.after ?? [];
  const succsOf = (id: string) => successors.get(id) ?? [];
  const placed = new Map<string, Placed>();

  // Forward, in table order (every row after the rows it names in `after`): choose and place.
  specs.forEach((spec, index) => {
    // An inspection reads the pod once, long after the facts: a sighting then times nothing.
    const candidates = spec.candidates(ctx).filter((c) => !(ctx.header.options.inspect && c.source === 'watch-observed'));
    const chosen = choose(spec, candidates, offsetMs, anomalies);
    if (!chosen) return;
    let fallback = chosen.fallback;
    if (spec.expects && chosen.kind !== 'event') {
      fallback = `no ${spec.expects} seen (events are best-effort); timed from ${chosen.evidence}`;
      anomalies.push({ kind: 'missing-event', milestone: spec.id, explanation: fallback });
    } else if (chosen.kind === 'event' && chosen.fallback) {
      anomalies.push({
        kind: 'event-time-fallback',
        milestone: spec.id,
        explanation: `${chosen.fallback}: used ${chosen.source} (${chosen.precisionMs} ms precision)`,
      });
    }
    const preds = present(predsOf(spec.id), placed, predsOf);
    const predAt = preds.length ? Math.max(...preds.map((p) => p.milestone.at)) : undefined;
    const at = place(chosen, offsetMs, predAt);
    const bounds = interval(spec, chosen, at, offsetMs);
    if (!bounds.exact) bounds.lo = Math.max(bounds.lo, ...preds.map((p) => p.lo));
    const m: Milestone = {
      id: spec.id,
      label: spec.label,
      component: spec.component,
      at,
      offsetMs: roundMs(at - t0),
      source: chosen.source,
      precisionMs: chosen.source === 'watch-observed' ? watchPrecision(ctx) : chosen.precisionMs,
    };
    if (spec.container !== undefined) m.container = spec.container;
    if (chosen.detail) m.detail = chosen.detail;
    m.evidence = chosen.evidence;
    if (fallback) m.fallback = fallback;
    placed.set(spec.id, { spec, index, milestone: m, ...bounds });
  });

  // Backward: a coarse time later than something that must come after it is capped there.
  for (const p of [...placed.values()].reverse()) {
    if (p.exact) continue;
    let by: Placed | undefined;
    for (const s of present(succsOf(p.spec.id), placed, succsOf)) {
      if (s.hi < p.hi) {
        p.hi = s.hi;
        by = s;
      }
    }
    const m = p.milestone;
    // Bounds that contradict the milestone's own lower bound are a real inversion: left for the anomaly check.
    if (!by || m.at <= p.hi || p.hi < p.lo) continue;
    const was = m.at;
    const note = `before ${by.milestone.id} (${by.milestone.source}); ${SAID_BY[m.source] ?? m.source} said ${formatOffset(was - t0)}`;
    m.at = p.hi;
    m.offsetMs = roundMs(m.at - t0);
    m.precisionMs = roundMs(Math.max(0.001, Number.isFinite(p.lo) ? p.hi - p.lo : was - p.hi));
    m.source = 'bounded-by';
    m.boundedBy = by.milestone.id;
    m.detail = m.detail ? `${m.detail}; ${note}` : note;
  }

  // What is still out of causal order is a real inversion: components' clocks disagree beyond the offset estimate.
  for (const s of placed.values()) {
    for (const p of present(predsOf(s.spec.id), placed, predsOf)) {
      const raw = s.milestone.at - p.milestone.at;
      // trace times are kept to the µs: one µs either way is rounding, not an inversion
      if (roundMs(raw) >= -0.001) continue;
      anomalies.push({
        kind: 'negative-duration',
        phase: `${p.milestone.id}->${s.milestone.id}`,
        rawMs: roundMs(raw),
        explanation: negativeExplanation(p.milestone, s.milestone, raw),
      });
    }
  }

  return [...placed.values()].sort((a, b) => a.milestone.at - b.milestone.at || a.index - b.index).map((p) => p.milestone);
}

const SAID_BY: Partial<Record<TimeSource, string>> = {
  'event-name-ns': 'its event',
  'event-time-us': 'its event',
  'watch-observed': 'the watch',
  'client-clock': 'the response',
  'probe-clock': 'the probe pod',
  'status-field-s': 'the 1-s status field',
  'condition-s': 'the 1-s condition time',
  'event-timestamp-s': 'the 1-s event timestamp',
};


function negativeExplanation(from: Milestone, to: Milestone, raw: number): string {
  const coarse = [from, to].find((m) => m.precisionMs >= 1000);
  const watchedLate = [from, to].find((m) => m.source === 'watch-observed');
  const why = coarse
    ? `within the 1 s precision of ${coarse.id} (${coarse.source})`
    : watchedLate
      ? `${watchedLate.id} is a watch sighting, yet the other side is timed later: the clocks disagree beyond the offset estimate`
      : `the clocks of ${from.component} and ${to.component} disagree by more than the offset estimate`;
  return `${to.id} is timed ${formatMs(-raw)} before ${from.id}, which must come first: ${why}`;
}

/** Steps between milestones consecutive in time: never negative (inversions are anomalies on the causal pair). */
export function buildPhases(specs: Map<string, MilestoneSpec>, milestones: Milestone[], t0: number): Phase[] {
  const phases: Phase[] = [];
  for (let i = 1; i < milestones.length; i++) {
    const from = milestones[i - 1]!;
    const to = milestones[i]!;
    const phase: Phase = {
      id: `${from.id}->${to.id}`,
      label: specs.get(to.id)?.stepLabel ?? to.label,
      kind: 'step',
      from: from.id,
      to: to.id,
      component: to.component,
      startOffsetMs: roundMs(from.at - t0),
      durationMs: roundMs(Math.max(0, to.at - from.at)),
    };
    if (to.container !== undefined) phase.container = to.container;
    phases.push(phase);
  }
  return phases;
}

export function reportedPhases(ctx: Context, milestones: Milestone[], containers: ContainerInfo[], t0: number): Phase[] {
  const byId = new Map(milestones.map((m) => [m.id, m]));
  const out: Phase[] = [];
  const kubeconfig = byId.get('client.kubeconfig');
  const loadMs = num(ctx.client.get('kubeconfig-loaded')?.[0]?.data?.loadMs);
  if (kubeconfig && loadMs !== undefined) {
    out.push({ id: 'client.kubeconfig-load', label: 'kubeconfig load (client-measured)', kind: 'reported', component: 'client', startOffsetMs: roundMs(kubeconfig.offsetMs - loadMs), durationMs: loadMs });
  }
  const credentials = byId.get('client.credentials');
  const credMs = num(ctx.client.get('credentials-resolved')?.[0]?.data?.durationMs);
  if (credentials && credMs !== undefined) {
    out.push({ id: 'client.credentials-resolve', label: 'credential resolution (client-measured)', kind: 'reported', component: 'client', startOffsetMs: roundMs(credentials.offsetMs - credMs), durationMs: credMs });
  }
  // The POST from send to the response (or the error): what the client waited,
  // kept apart from api.accepted, which a watch sighting may time earlier.
  const sent = ctx.client.get('post-sent')?.[0]?.observedAt;
  const answer = ctx.client.get('post-response')?.[0] ?? ctx.client.get('post-error')?.[0];
  if (sent !== undefined && answer !== undefined) {
    const status = num(answer.data?.status);
    out.push({
      id: 'api.post-round-trip',
      label: status ? `POST → ${status} response (client-measured)` : 'POST → connection failed (client-measured)',
      kind: 'reported',
      component: 'client',
      startOffsetMs: roundMs(sent - t0),
      durationMs: roundMs(Math.max(0, answer.observedAt - sent)),
    });
  }
  for (const c of containers) {
    if (c.pullMs === undefined) continue;
    const pulling = byId.get(`container.${c.name}.pulling`);
    const pulled = byId.get(`container.${c.name}.pulled`);
    const start = pulling ? pulling.at - t0 : pulled ? pulled.at - t0 - c.pullMs : undefined;
    if (start === undefined) continue;
    out.push({
      id: `container.${c.name}.pull-reported`,
      label: `image pull of ${c.name} (kubelet-measured${c.pullIncludingWaitingMs !== undefined ? `; ${formatMs(c.pullIncludingWaitingMs)} incl. waiting` : ''})`,
      kind: 'reported',
      component: 'runtime',
      container: c.name,
      startOffsetMs: roundMs(start),
      durationMs: c.pullMs,
    });
  }
  return out;
}
