/**
 * reconstruct(): observations in, Trace out. Pure and repeatable: the CLI
 * calls it on the growing observation list to show progress, and once more
 * at the end. Nothing here reads a clock; "now" is the last observation.
 */
import { addObservedServerTime, estimateClockOffset, newOffsetBounds } from './clock.js';
import { beforeTeardown, buildContext, containerRefs, type Context } from './context.js';
import { explainReady, type PullSettings } from './explain.js';
import { parseSecondsTime } from './event-time.js';
import { num, str } from './kube-objects.js';
import { formatMs, formatOffset, roundMs } from './format-ms.js';
import { milestoneTable } from './milestones.js';
import { observedSection } from './observed.js';
import type { Observation, RecordingHeader } from './observation.js';
import { measureDelivery } from './delivery.js';
import { spanSection } from './span-steps.js';
import { metricsSection } from './metric-deltas.js';
import { classifyOutcome } from './outcome.js';
import type { Observed } from './section-types.js';
import { TOOL_NAME, TRACE_SCHEMA_VERSION, type Anomaly, type ClockOffset, type ContainerInfo, type Explanation, type Gap, type Milestone, type Outcome, type RunTraceContext, type Trace } from './types.js';
import { buildMilestones, buildPhases, reportedPhases } from './place-milestones.js';
import { clusterInfo, identity, accessReviews, admission, podInfo, schedulingAttempts, containersInfo, serviceSection } from './sections.js';
import { nodeInfo, withNodeEvents } from './node-section.js';

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
  const offset = estimateClockOffset(offsetBoundsFrom(ctx));
  // An inspection uses no watch sighting; elsewhere every sighting is as precise as the deliveries measured.
  const delivery = header.options.inspect ? undefined : measureDelivery(ctx, offset.estimateMs);
  if (delivery?.maxMs !== undefined) ctx.watchPrecisionMs = Math.max(0.001, delivery.maxMs);
  const clock: ClockOffset = delivery ? { ...offset, delivery } : offset;
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
      ...traceContext(ctx, t0),
      options: {
        keep: header.options.keep,
        timeoutMs: header.options.timeoutMs,
        ...(header.options.image !== undefined ? { image: header.options.image } : {}),
        ...(header.options.expose !== undefined ? { expose: header.options.expose } : {}),
        ...(header.options.observeMs !== undefined ? { observeMs: header.options.observeMs } : {}),
        ...(header.options.logLines !== undefined ? { logLines: header.options.logLines } : {}),
        ...(header.options.node !== undefined ? { node: header.options.node } : {}),
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
    ...explainSection(outcome, milestones, containers, underTest, t0),
    ...serviceSection(ctx),
    ...observedIfAny(ctx, clock.estimateMs, t0, containers),
    ...spanSection(ctx, milestones, clock.estimateMs, t0),
    ...metricsSection(underTest),
  };
}

function explainSection(outcome: Outcome, milestones: readonly Milestone[], containers: readonly ContainerInfo[], ctx: Context, t0: number): { explain?: Explanation } {
  if (outcome.class !== 'ready') return {};
  const read = ctx.client.get('kubelet-config')?.[0]?.data;
  const settings: PullSettings | undefined = read
    ? {
        ...(typeof read.serializeImagePulls === 'boolean' ? { serializeImagePulls: read.serializeImagePulls } : {}),
        ...(typeof read.maxParallelImagePulls === 'number' ? { maxParallelImagePulls: read.maxParallelImagePulls } : {}),
        ...(typeof read.registryPullQPS === 'number' ? { registryPullQPS: read.registryPullQPS } : {}),
        ...(typeof read.registryBurst === 'number' ? { registryBurst: read.registryBurst } : {}),
        ...(typeof read.error === 'string' ? { error: read.error } : {}),
      }
    : undefined;
  const explain = explainReady(milestones, containers, containerRefs(ctx), t0, settings);
  return explain ? { explain } : {};
}

function observedIfAny(ctx: Context, offsetMs: number, t0: number, containers: ContainerInfo[]): { observed?: Observed } {
  const observed = observedSection(ctx, offsetMs, t0, containers);
  return observed ? { observed } : {};
}

/** The observations that say a call was answered, in the order the calls went out. */
const ANSWERED_BY: Readonly<Record<string, readonly string[]>> = {
  serverVersion: ['server-version'],
  selfSubjectReview: ['self-subject-review'],
  accessReview: ['access-review'],
  createPod: ['post-response', 'post-error'],
  deletePod: ['delete-response', 'delete-error'],
  getService: ['cluster-dns'],
  createService: ['service-created', 'service-error'],
  deleteService: ['service-deleted'],
  getNode: ['node-info'],
  nodeStatsSummary: ['usage-sample'],
  podMetrics: ['usage-sample'],
  podLog: ['logs'],
};

/** The run's trace id and its traced requests, each with its duration when its answer was recorded. */
function traceContext(ctx: Context, t0: number): { otel?: RunTraceContext } {
  const ids = ctx.header.trace;
  if (!ids) return {};
  const used = new Set<Observation>();
  const requests = (ctx.client.get('request-traced') ?? []).map((o) => {
    const call = str(o.data?.['call']) ?? '';
    const types = ANSWERED_BY[call] ?? [];
    const answer = ctx.observations.find((a) => a.seq > o.seq && a.source === 'client' && types.includes(a.type) && !used.has(a));
    if (answer) used.add(answer);
    return {
      call,
      spanId: str(o.data?.['spanId']) ?? '',
      auditId: str(o.data?.['auditId']) ?? '',
      offsetMs: roundMs(o.observedAt - t0),
      ...(answer ? { durationMs: roundMs(answer.observedAt - o.observedAt) } : {}),
    };
  });
  return { otel: { traceId: ids.traceId, rootSpanId: ids.rootSpanId, requests } };
}
