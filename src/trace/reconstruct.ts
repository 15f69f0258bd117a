/**
 * reconstruct(): observations in, Trace out. Pure and repeatable: the CLI
 * calls it on the growing observation list to show progress, and once more
 * at the end. Nothing here reads a clock; "now" is the last observation.
 */
import { diffAdmission } from './admission-diff.js';
import { addObservedServerTime, estimateClockOffset, newOffsetBounds } from './clock.js';
import { beforeTeardown, buildContext, containerRefs, containerStatus, kubeletEvents, podEndpoint, schedulerEvents, type Context } from './context.js';
import { PRECISION_MS, SOURCE_RANK, parseSecondsTime, type TimeSource } from './event-time.js';
import { parseQuantity, type ContainerSpec, type Node, type NormalizedEvent, type Pod } from './kube-objects.js';
import { parsePulledMessage, probeKind } from './messages.js';
import { formatMs, formatOffset, roundMs } from './format-ms.js';
import { milestoneTable, type Candidate, type MilestoneSpec } from './milestones.js';
import { observedSection } from './observed.js';
import type { Observation, RecordingHeader } from './observation.js';
import { classifyOutcome, pullFailureFor } from './outcome.js';
import {
  TOOL_NAME,
  TRACE_SCHEMA_VERSION,
  type AccessReview,
  type Admission,
  type Anomaly,
  type ClockOffset,
  type ClusterInfo,
  type ContainerInfo,
  type Gap,
  type Identity,
  type Milestone,
  type NodeCondition,
  type NodeConditionChange,
  type NodeEventInfo,
  type NodeInfo,
  type Phase,
  type PodInfo,
  type ProbeFailure,
  type ResourceFit,
  type SchedulingAttempt,
  type ServiceInfo,
  type Observed,
  type Trace,
} from './types.js';

/** A watch sighting this much later than the end of its 1-s field interval came late (gap, relist, backlog). */
const LATE_OBSERVATION_MS = 500;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

// ---- clock -------------------------------------------------------------------

function offsetBoundsFrom(ctx: Context) {
  const bounds = newOffsetBounds();
  const post = ctx.postSentAt;
  const creation = parseSecondsTime(ctx.stored?.metadata?.creationTimestamp, 'status-field-s');
  if (creation && ctx.postResponseAt !== undefined) addObservedServerTime(bounds, creation.ms, 1000, ctx.postResponseAt, post);

  for (const e of ctx.podEvents) {
    if (!e.first) continue;
    addObservedServerTime(bounds, e.first.ms, e.first.precisionMs >= 1000 ? 1000 : 0, e.firstObservedAt, post);
  }

  // Status times of the new pod: each first sighting bounds the offset both ways.
  const seen = new Set<string>();
  const sample = (key: string, value: string | undefined, observedAt: number) => {
    const t = parseSecondsTime(value, 'status-field-s');
    if (!t || seen.has(`${key}=${value}`)) return;
    seen.add(`${key}=${value}`);
    addObservedServerTime(bounds, t.ms, 1000, observedAt, post);
  };
  for (const s of ctx.snapshots) {
    const st = s.pod.status;
    sample('creationTimestamp', s.pod.metadata?.creationTimestamp, s.observedAt);
    sample('startTime', st?.startTime, s.observedAt);
    for (const c of st?.conditions ?? []) sample(`condition.${c.type}`, c.lastTransitionTime, s.observedAt);
    for (const c of [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])]) {
      sample(`${c.name}.running`, c.state?.running?.startedAt, s.observedAt);
      sample(`${c.name}.started`, c.state?.terminated?.startedAt, s.observedAt);
      sample(`${c.name}.finished`, c.state?.terminated?.finishedAt, s.observedAt);
    }
  }
  return bounds;
}

// ---- milestones --------------------------------------------------------------

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

/** What the chosen candidate says about when the milestone happened. */
function interval(spec: MilestoneSpec, c: Candidate, at: number, offsetMs: number): { lo: number; hi: number; exact: boolean } {
  if (c.clientMs !== undefined) {
    if (c.source === 'client-clock' && !spec.timedWhenSeen) return { lo: at, hi: at, exact: true };
    return { lo: -Infinity, hi: at, exact: false }; // seen by then
  }
  if (EXACT_SOURCES.has(c.source) || c.precisionMs < 1000) return { lo: at, hi: at, exact: true };
  const start = toClient(c, offsetMs);
  const hi = Math.min(start + c.precisionMs, c.observedAt ?? Infinity);
  // A condition's lastTransitionTime is stamped when the kubelet next writes the status, at or after
  // the change itself: it bounds the change from above only.
  return { lo: c.source === 'condition-s' ? -Infinity : start, hi, exact: false };
}

/** The milestones present among `ids`, standing in for absent ones with their own neighbours (transitively). */
function present(
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

function buildMilestones(ctx: Context, specs: MilestoneSpec[], offsetMs: number, t0: number, anomalies: Anomaly[]): Milestone[] {
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
      precisionMs: chosen.precisionMs,
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
  'watch-observed': 'the watch',
  'client-clock': 'the response',
  'status-field-s': 'the 1-s status field',
  'condition-s': 'the 1-s condition time',
  'event-timestamp-s': 'the 1-s event timestamp',
};

// ---- phases --------------------------------------------------------------------

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
function buildPhases(specs: Map<string, MilestoneSpec>, milestones: Milestone[], t0: number): Phase[] {
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

function reportedPhases(ctx: Context, milestones: Milestone[], containers: ContainerInfo[], t0: number): Phase[] {
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

// ---- sections --------------------------------------------------------------------

function clusterInfo(ctx: Context): ClusterInfo | null {
  const kc = ctx.client.get('kubeconfig-loaded')?.[0]?.data;
  const version = ctx.client.get('server-version')?.[0]?.data;
  const creds = ctx.client.get('credentials-resolved')?.[0]?.data;
  if (!kc && !version && !creds) return null;
  // An allowlist on purpose: kubeconfig data must never bring tokens, passwords or key material along.
  const info: ClusterInfo = {};
  const set = <K extends keyof ClusterInfo>(key: K, value: ClusterInfo[K] | undefined) => {
    if (value !== undefined) info[key] = value;
  };
  set('context', str(kc?.context));
  set('cluster', str(kc?.cluster));
  set('user', str(kc?.user));
  set('server', str(kc?.server));
  set('namespace', str(kc?.namespace));
  set('authMethod', str(kc?.authMethod) ?? str(creds?.method));
  set('serverVersion', str(version?.gitVersion));
  set('platform', str(version?.platform));
  set('kubeconfigLoadMs', num(kc?.loadMs));
  set('credentialsMs', num(creds?.durationMs));
  return info;
}

function identity(ctx: Context): Identity | null {
  const d = ctx.client.get('self-subject-review')?.[0]?.data;
  if (!d) return null;
  const groups = Array.isArray(d.groups) ? d.groups.filter((g): g is string => typeof g === 'string') : [];
  return {
    ...(str(d.username) ? { username: str(d.username) } : {}),
    ...(str(d.uid) ? { uid: str(d.uid) } : {}),
    groups,
    ...(d.error !== undefined ? { error: typeof d.error === 'string' ? d.error : JSON.stringify(d.error) } : {}),
  };
}

function accessReviews(ctx: Context): AccessReview[] {
  return (ctx.client.get('access-review') ?? []).map((o) => {
    const d = o.data ?? {};
    return {
      ...(str(d.verb) ? { verb: str(d.verb) } : {}),
      ...(str(d.resource) ? { resource: str(d.resource) } : {}),
      ...(str(d.namespace) ? { namespace: str(d.namespace) } : {}),
      // A review that failed has no answer (the recording omits `allowed`): unknown, not denied.
      ...(typeof d.allowed === 'boolean' ? { allowed: d.allowed } : d.error === undefined ? { allowed: false } : {}),
      ...(d.error !== undefined ? { error: typeof d.error === 'string' ? d.error : JSON.stringify(d.error) } : {}),
      ...(typeof d.denied === 'boolean' ? { denied: d.denied } : {}),
      ...(str(d.reason) ? { reason: str(d.reason) } : {}),
      ...(str(d.evaluationError) ? { evaluationError: str(d.evaluationError) } : {}),
    };
  });
}

function admission(ctx: Context): Admission {
  const err = ctx.client.get('post-error')?.[0]?.data;
  if (err) {
    const status = num(err.status) ?? Number(err.status);
    return {
      status: 'rejected',
      changes: [],
      rejection: {
        status: Number.isFinite(status) ? status : 0,
        ...(str(err.reason) ? { reason: str(err.reason) } : {}),
        message: str(err.message) ?? '',
      },
    };
  }
  if (!ctx.stored) return { status: 'pending', changes: [] };
  return { status: 'accepted', changes: ctx.submitted ? diffAdmission(ctx.submitted, ctx.stored) : [] };
}

function podInfo(ctx: Context): PodInfo {
  const pod = ctx.latestPod ?? ctx.stored;
  const spec = ctx.stored?.spec ?? pod?.spec ?? ctx.submitted?.spec;
  const images = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]
    .map((c) => c.image)
    .filter((i): i is string => typeof i === 'string');
  const info: PodInfo = { namespace: ctx.header.namespace, name: ctx.header.podName, images };
  const meta = pod?.metadata;
  if (ctx.podUid) info.uid = ctx.podUid;
  // the version the API server stored it at (the POST response); without one, the latest seen
  const version = ctx.stored?.metadata?.resourceVersion ?? meta?.resourceVersion;
  if (version) info.resourceVersion = version;
  const created = ctx.stored?.metadata?.creationTimestamp ?? meta?.creationTimestamp;
  if (created) info.creationTimestamp = created;
  if (pod?.status?.qosClass) info.qosClass = pod.status.qosClass;
  if (pod?.spec?.nodeName) info.nodeName = pod.spec.nodeName;
  if (pod?.status?.podIP) info.podIP = pod.status.podIP;
  if (pod?.status?.phase) info.phase = pod.status.phase;
  return info;
}

function placeEvent(e: NormalizedEvent, offsetMs: number): { at: number; source: SchedulingAttempt['source']; precisionMs: number } {
  if (!e.first) return { at: e.firstObservedAt, source: 'watch-observed', precisionMs: 1 };
  return { at: e.first.ms - offsetMs, source: e.first.source, precisionMs: e.first.precisionMs };
}

function schedulingAttempts(ctx: Context, offsetMs: number, t0: number): SchedulingAttempt[] {
  return schedulerEvents(ctx, 'FailedScheduling').map((e) => {
    const p = placeEvent(e, offsetMs);
    return { at: p.at, offsetMs: roundMs(p.at - t0), source: p.source, precisionMs: p.precisionMs, reason: e.reason, message: e.message, count: e.count };
  });
}

function probeFailures(ctx: Context, fieldPath: string, offsetMs: number, t0: number): ProbeFailure[] {
  const out: ProbeFailure[] = [];
  for (const e of kubeletEvents(ctx, 'Unhealthy', fieldPath)) {
    const probe = probeKind(e.message);
    if (!probe) continue;
    const p = placeEvent(e, offsetMs);
    const f: ProbeFailure = { probe, at: p.at, offsetMs: roundMs(p.at - t0), source: p.source, precisionMs: p.precisionMs, count: e.count, message: e.message };
    // A 1-s lastTimestamp can read earlier than the ns-precise first failure: never list it before.
    if (e.count > 1 && e.last) f.lastOffsetMs = Math.max(f.offsetMs, roundMs(e.last.ms - offsetMs - t0));
    out.push(f);
  }
  return out;
}

/** Containers as they were before the teardown (a deleted pod's statuses lose lastState). */
function containersInfo(ctx: Context, offsetMs: number, t0: number): ContainerInfo[] {
  const pod = ctx.latestPod;
  return containerRefs(ctx).map((ref) => {
    const st = containerStatus(pod, ref);
    const info: ContainerInfo = {
      name: ref.name,
      kind: ref.kind,
      image: ref.spec.image ?? '',
      pull: 'unknown',
      restarts: st?.restartCount ?? 0,
      ready: st?.ready === true,
    };
    if (ref.spec.imagePullPolicy) info.imagePullPolicy = ref.spec.imagePullPolicy;
    if (st?.imageID) info.imageID = st.imageID;

    const pulled = kubeletEvents(ctx, 'Pulled', ref.fieldPath)[0];
    const msg = pulled ? parsePulledMessage(pulled.message) : undefined;
    const waiting = st?.state?.waiting;
    if (msg?.kind === 'pulled') {
      info.pull = 'pulled';
      info.pullMs = msg.pullMs;
      if (msg.includingWaitingMs !== undefined) info.pullIncludingWaitingMs = msg.includingWaitingMs;
      if (msg.imageSizeBytes !== undefined) info.imageSizeBytes = msg.imageSizeBytes;
    } else if (msg?.kind === 'present') {
      info.pull = 'present';
    } else {
      const pullWaiting = waiting && ['ErrImagePull', 'ImagePullBackOff'].includes(waiting.reason ?? '') ? waiting.message : undefined;
      const failure = pullFailureFor(ctx, ref, pullWaiting);
      if (failure) {
        info.pull = 'failed';
        info.pullFailure = failure;
      } else if (kubeletEvents(ctx, 'Pulling', ref.fieldPath).length > 0) {
        info.pull = 'pending';
      }
    }

    const state = st?.state;
    if (state?.running) info.state = 'running';
    else if (state?.terminated) info.state = 'terminated';
    else if (state?.waiting) info.state = 'waiting';
    if (waiting && (waiting.reason || waiting.message)) {
      info.waiting = {};
      if (waiting.reason) info.waiting.reason = waiting.reason;
      if (waiting.message) info.waiting.message = waiting.message;
    }
    const last = st?.lastState?.terminated ?? st?.state?.terminated;
    if (last) {
      info.lastTermination = {};
      if (last.reason) info.lastTermination.reason = last.reason;
      if (last.exitCode !== undefined) info.lastTermination.exitCode = last.exitCode;
      if (last.message) info.lastTermination.message = last.message;
    }
    const probes = probeFailures(ctx, ref.fieldPath, offsetMs, t0);
    if (probes.length) info.probeFailures = probes;
    return info;
  });
}

const MEMORY_LIKE = new Set(['memory', 'ephemeral-storage']);

function formatQuantity(resource: string, value: number): string {
  if (resource === 'cpu') return `${Math.round(value * 1000)}m`;
  if (MEMORY_LIKE.has(resource) && value > 0 && value % 2 ** 20 === 0) return `${value / 2 ** 20}Mi`;
  return String(value);
}

function requestsOf(containers: ContainerSpec[] | undefined): Map<string, number> {
  const sum = new Map<string, number>();
  for (const c of containers ?? []) {
    for (const [k, v] of Object.entries(c.resources?.requests ?? {})) {
      const q = parseQuantity(v);
      if (q !== undefined) sum.set(k, (sum.get(k) ?? 0) + q);
    }
  }
  return sum;
}

/** What the scheduler counts: max(app + sidecars, largest init container) + overhead. */
function effectiveRequests(pod: Pod | undefined): Map<string, number> {
  const spec = pod?.spec;
  const sidecars = (spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const plainInit = (spec?.initContainers ?? []).filter((c) => c.restartPolicy !== 'Always');
  const total = requestsOf([...(spec?.containers ?? []), ...sidecars]);
  for (const c of plainInit) {
    for (const [k, v] of requestsOf([c])) total.set(k, Math.max(total.get(k) ?? 0, v));
  }
  for (const [k, v] of Object.entries(spec?.overhead ?? {})) {
    const q = parseQuantity(v);
    if (q !== undefined) total.set(k, (total.get(k) ?? 0) + q);
  }
  return total;
}

function conditionsOf(node: Node): NodeCondition[] {
  return (node.status?.conditions ?? []).map((c) => {
    const out: NodeCondition = { type: c.type, status: c.status };
    if (c.reason) out.reason = c.reason;
    if (c.message) out.message = c.message;
    return out;
  });
}

function nodeInfo(ctx: Context, milestones: Milestone[], t0: number): NodeInfo | null {
  const scheduled = milestones.find((m) => m.id === 'scheduler.scheduled')?.detail?.replace(/^node /, '');
  const name = ctx.latestPod?.spec?.nodeName ?? scheduled;
  const names = new Set(ctx.nodes.map((n) => n.node.metadata?.name));
  const snapshots = ctx.nodes.filter((n) => (name ? n.node.metadata?.name === name : names.size === 1));
  const first = snapshots[0]?.node;
  if (!first) return name ? { name, conditionsAtStart: [], conditionChanges: [], resources: {} } : null;
  const latest = snapshots.at(-1)!.node;
  const ni = latest.status?.nodeInfo ?? {};
  const info: NodeInfo = {
    name: first.metadata?.name ?? name ?? '',
    conditionsAtStart: conditionsOf(first),
    conditionChanges: [],
    resources: {},
  };
  if (ni.kubeletVersion) info.kubeletVersion = ni.kubeletVersion;
  if (ni.containerRuntimeVersion) info.containerRuntimeVersion = ni.containerRuntimeVersion;
  if (ni.osImage) info.osImage = ni.osImage;
  if (ni.kernelVersion) info.kernelVersion = ni.kernelVersion;
  if (ni.architecture) info.architecture = ni.architecture;

  let previous = new Map(info.conditionsAtStart.map((c) => [c.type, c.status]));
  for (const s of snapshots.slice(1)) {
    const now = conditionsOf(s.node);
    for (const c of now) {
      const before = previous.get(c.type);
      if (before !== c.status) {
        const change: NodeConditionChange = { ...c, at: s.observedAt, offsetMs: roundMs(s.observedAt - t0) };
        if (before !== undefined) change.previousStatus = before;
        info.conditionChanges.push(change);
      }
    }
    previous = new Map(now.map((c) => [c.type, c.status]));
  }

  const allocatable = latest.status?.allocatable ?? {};
  const requested = effectiveRequests(ctx.stored ?? ctx.latestPod);
  requested.set('pods', 1);
  for (const [resource, value] of requested) {
    const fit: ResourceFit = { requested: formatQuantity(resource, value), requestedValue: resource === 'cpu' ? value * 1000 : value };
    const alloc = allocatable[resource];
    if (alloc !== undefined) {
      fit.allocatable = String(alloc);
      const q = parseQuantity(alloc);
      if (q !== undefined) fit.allocatableValue = resource === 'cpu' ? q * 1000 : q;
    }
    info.resources[resource] = fit;
  }
  return info;
}

/**
 * The node's own events from the run (earlier ones come with the watch's first
 * list and are left out). A kubelet that starts during the run has restarted:
 * what it did before may reach the trace only through status, so say so.
 */
function withNodeEvents(info: NodeInfo | null, ctx: Context, offsetMs: number, t0: number, anomalies: Anomaly[]): NodeInfo | null {
  if (!info) return info;
  const events: NodeEventInfo[] = [];
  for (const e of ctx.nodeEvents) {
    if (e.regarding.name !== undefined && e.regarding.name !== info.name) continue;
    const at = e.first ? e.first.ms - offsetMs : e.firstObservedAt;
    if (at < ctx.header.startedAt) continue;
    events.push({
      reason: e.reason,
      message: e.message,
      component: e.component,
      at,
      offsetMs: roundMs(at - t0),
      source: e.first?.source ?? 'watch-observed',
      precisionMs: e.first?.precisionMs ?? PRECISION_MS['watch-observed'],
    });
    if (e.reason === 'Starting' && e.component === 'kubelet') {
      anomalies.push({
        kind: 'kubelet-restarted',
        rawMs: roundMs(at - t0),
        explanation: `the kubelet on ${info.name} (re)started at ${formatOffset(at - t0)}: what it did before may be known only from pod status`,
      });
    }
  }
  if (events.length > 0) info.events = events;
  return info;
}

function gaps(ctx: Context, milestones: Milestone[], t0: number): Gap[] {
  return (ctx.client.get('watch-gap') ?? []).map((o) => {
    const d = o.data ?? {};
    const from = num(d.from) ?? o.observedAt;
    const to = num(d.to) ?? o.observedAt;
    // Events missed in a gap come back with the relist; status fields are what
    // stands in when they do not (expired or dropped).
    const recovered = milestones
      .filter((m) => m.fallback !== undefined && m.at >= from - 1000 && m.at <= to + 1000)
      .map((m) => m.id);
    const gap: Gap = {
      watch: str(d.watch) ?? 'unknown',
      from,
      to,
      fromOffsetMs: roundMs(from - t0),
      durationMs: roundMs(Math.max(0, to - from)),
      reason: str(d.reason) ?? 'unknown',
      recoveredFromStatus: recovered,
    };
    if (d.error !== undefined) gap.error = typeof d.error === 'string' ? d.error : JSON.stringify(d.error);
    if (d.unresolved === true) gap.unresolved = true;
    return gap;
  });
}

/** Why a trace may miss part of the run, one line each; empty when it saw everything. */
function incompleteReasons(ctx: Context, traceGaps: readonly Gap[]): string[] {
  const reasons: string[] = [];
  if (!ctx.final) reasons.push('the recording ends before the run did');
  if (ctx.header.options.inspect) reasons.push(...inspectionLimits(ctx));
  // The client's own record, not the outcome: a run that timed out may be classified by the failure it was in.
  if (ctx.client.get('timeout')) reasons.push(`gave up after --timeout ${formatMs(ctx.header.options.timeoutMs)} before the pod was Ready`);
  const interrupted = ctx.client.get('interrupted')?.[0];
  if (interrupted) reasons.push(`interrupted by ${str(interrupted.data?.signal) ?? 'a signal'}`);
  for (const gap of traceGaps.filter((g) => g.unresolved)) {
    reasons.push(`watch ${gap.watch} lost at ${formatOffset(gap.fromOffsetMs)} and not back when the run ended${gap.error ? ` (${gap.error})` : ''}`);
  }
  const deleteError = ctx.client.get('delete-error')?.find((o) => num(o.data?.status) !== 404);
  if (deleteError) reasons.push(`the pod could not be deleted${str(deleteError.data?.message) ? ` (${str(deleteError.data?.message)})` : ''}`);
  return reasons;
}

/** What an inspection of a pod podtrace did not create cannot know any more. */
function inspectionLimits(ctx: Context): string[] {
  const reasons: string[] = [];
  if (!ctx.podEvents.some((e) => e.component === 'kubelet')) {
    reasons.push("no kubelet events left for this pod (the API server keeps events 1 h by default): times come from its status, to the second");
  }
  for (const c of [...(ctx.latestPod?.status?.initContainerStatuses ?? []), ...(ctx.latestPod?.status?.containerStatuses ?? [])]) {
    if ((c.restartCount ?? 0) > 0) reasons.push(`container ${c.name} restarted ${c.restartCount} time(s): its start and ready times are the latest start's`);
  }
  return reasons;
}

function clockAnomalies(clock: ClockOffset): Anomaly[] {
  if (clock.method !== 'inconsistent-bounds') return [];
  return [
    {
      kind: 'clock-bounds-inconsistent',
      explanation: `server times contradict each other by ${formatMs(clock.lowerMs! - clock.upperMs!)} (components on different clocks?): used the midpoint offset ${formatMs(clock.estimateMs)}`,
    },
  ];
}

export function reconstruct(header: RecordingHeader, observations: readonly Observation[]): Trace {
  const ctx = buildContext(header, observations);
  const clock = estimateClockOffset(offsetBoundsFrom(ctx));
  const created = header.options.inspect ? Date.parse(ctx.snapshots[0]?.pod.metadata?.creationTimestamp ?? '') : NaN;
  // watch: the first sighting of the pod (ADDED), ms-precise and at most a watch delivery after its creation
  const firstSeen = header.options.watch ? ctx.snapshots[0]?.observedAt : undefined;
  const t0 = ctx.postSentAt ?? firstSeen ?? (Number.isFinite(created) ? created - clock.estimateMs : header.startedAt);
  const anomalies: Anomaly[] = clockAnomalies(clock);

  const table = milestoneTable(ctx, clock.estimateMs);
  const specs = new Map(table.map((s) => [s.id, s]));
  const milestones = buildMilestones(ctx, table, clock.estimateMs, t0, anomalies);
  const underTest = beforeTeardown(ctx);
  const containers = containersInfo(underTest, clock.estimateMs, t0);
  const phases = [...buildPhases(specs, milestones, t0), ...reportedPhases(ctx, milestones, containers, t0)];
  const traceGaps = gaps(ctx, milestones, t0);
  const outcome = classifyOutcome(ctx, milestones);
  const incomplete = incompleteReasons(ctx, traceGaps);

  return {
    schemaVersion: TRACE_SCHEMA_VERSION,
    tool: TOOL_NAME,
    toolVersion: header.toolVersion,
    run: {
      startedAt: header.startedAt,
      t0,
      t0Source: ctx.postSentAt !== undefined ? 'post-sent' : firstSeen !== undefined ? 'first-seen' : Number.isFinite(created) ? 'pod-created' : 'run-start',
      ...(header.options.inspect ? { mode: 'inspect' as const } : header.options.watch ? { mode: 'watch' as const } : {}),
      lastObservedAt: ctx.lastObservedAt,
      observations: observations.length,
      final: ctx.final,
      complete: incomplete.length === 0,
      ...(incomplete.length > 0 ? { incomplete } : {}),
      options: {
        keep: header.options.keep,
        timeoutMs: header.options.timeoutMs,
        ...(header.options.image !== undefined ? { image: header.options.image } : {}),
        ...(header.options.expose !== undefined ? { expose: header.options.expose } : {}),
        ...(header.options.observeMs !== undefined ? { observeMs: header.options.observeMs } : {}),
        ...(header.options.logLines !== undefined ? { logLines: header.options.logLines } : {}),
      },
    },
    cluster: clusterInfo(ctx),
    identity: identity(ctx),
    accessReviews: accessReviews(ctx),
    pod: podInfo(underTest),
    admission: admission(ctx),
    clock,
    milestones,
    phases,
    scheduling: { attempts: schedulingAttempts(ctx, clock.estimateMs, t0) },
    containers,
    node: withNodeEvents(nodeInfo(ctx, milestones, t0), ctx, clock.estimateMs, t0, anomalies),
    gaps: traceGaps,
    anomalies,
    outcome,
    ...serviceSection(ctx),
    ...observedIfAny(ctx, clock.estimateMs, t0, containers),
  };
}

function observedIfAny(ctx: Context, offsetMs: number, t0: number, containers: ContainerInfo[]): { observed?: Observed } {
  const observed = observedSection(ctx, offsetMs, t0, containers);
  return observed ? { observed } : {};
}

/** `--expose PORT`: the Service, its DNS name and whether a cluster DNS serves it, the pod's endpoint. */
function serviceSection(ctx: Context): { service?: ServiceInfo } {
  const port = ctx.header.options.expose;
  if (port === undefined) return {};
  const { namespace, podName } = ctx.header;
  const created = ctx.client.get('service-created')?.[0]?.data?.service as { spec?: { clusterIP?: string } } | undefined;
  const failed = ctx.client.get('service-error')?.[0]?.data;
  const dns = ctx.client.get('cluster-dns')?.[0]?.data;
  const service: ServiceInfo = {
    name: podName,
    namespace,
    port,
    ...(created?.spec?.clusterIP ? { clusterIP: created.spec.clusterIP } : {}),
    dnsName: `${podName}.${namespace}.svc.cluster.local`,
    clusterDns: dns?.found === true ? 'found' : dns?.found === false ? 'absent' : 'unknown',
  };
  // The endpoint as last seen before the teardown (the DELETE takes it out of the slice).
  const before = ctx.slices.filter((s) => s.type !== 'DELETED' && (ctx.deleteSentAt === undefined || s.observedAt < ctx.deleteSentAt));
  for (const s of before) {
    const e = podEndpoint(s.slice, podName);
    if (e?.addresses?.[0]) service.endpoint = { address: e.addresses[0], ready: e.conditions?.ready === true };
  }
  if (failed) service.error = [num(failed.status), str(failed.reason)].filter((x) => x !== undefined).join(' ') + `: ${str(failed.message) ?? 'no message'}`;
  return { service };
}

