/**
 * The milestone table: every step from request to Ready (and teardown), each
 * with where its time can come from and which steps must happen before it.
 * reconstruct() picks the best candidate per row; rows with no candidate are
 * simply absent from the trace. Rows are listed so that every row comes after
 * the rows named in its `after` (the trace itself lists milestones in time
 * order). Like clusterloader2's phase table, adding a step is adding a row here.
 */
import { PRECISION_MS, parseSecondsTime, type TimeSource } from './event-time.js';
import {
  backOffEvents,
  containerRefs,
  containerStatus,
  kubeletEvents,
  podEndpoint,
  pullFailedEvents,
  schedulerEvents,
  type Context,
  type ContainerRef,
  type PodSnapshot,
} from './context.js';
import type { NormalizedEvent, Pod, PodCondition } from './kube-objects.js';
import { classifyPullFailure, nodeFromScheduledMessage, parsePulledMessage, probeKind, pullFailureCause } from './messages.js';
import type { Component } from './types.js';
import { formatMs } from './format-ms.js';

export interface Candidate {
  kind: 'event' | 'status' | 'client';
  source: TimeSource;
  precisionMs: number;
  /** A server-clock time, moved onto the client timeline with the clock offset. */
  serverMs?: number;
  /** A client-clock time. */
  clientMs?: number;
  /** When the client saw the evidence: nothing is placed after the moment it was seen. */
  observedAt?: number;
  evidence: string;
  detail?: string;
  fallback?: string;
}

export interface MilestoneSpec {
  id: string;
  label: string;
  /** What happens in the step that ends at this milestone. */
  stepLabel: string;
  component: Component;
  container?: string;
  /** The event this row is normally timed from; used to say so when it is missing. */
  expects?: string;
  /**
   * Rows that causally happen before this one (a sandbox is ready before the
   * kubelet pulls the first image). reconstruct() uses them to bound coarse
   * times by precise ones and to flag real inversions (clock skew).
   */
  after?: string[];
  /**
   * Its client-clock candidates are when the client learned of it (a response,
   * a watch sighting), so they are only upper bounds, like watch sightings.
   */
  timedWhenSeen?: boolean;
  /** Reached only when something goes wrong: never announced as the step in progress. */
  failure?: true;
  /** Rows of another path that excludes this one (the image pulled, or found present). */
  exclusiveWith?: string[];
  candidates(ctx: Context): Candidate[];
}

// ---- candidate builders ----------------------------------------------------

/** The first sighting of the pod's address in the Service's EndpointSlices that passes `ok`. */
function sliceSighting(ctx: Context, podName: string, what: string, ok: (ready: boolean) => boolean): Candidate[] {
  for (const s of ctx.slices) {
    if (s.type === 'DELETED') continue;
    const endpoint = podEndpoint(s.slice, podName);
    if (!endpoint || !ok(endpoint.conditions?.ready === true)) continue;
    return [
      {
        kind: 'status',
        source: 'watch-observed',
        precisionMs: PRECISION_MS['watch-observed'],
        clientMs: s.observedAt,
        evidence: `EndpointSlice ${s.slice.metadata?.name ?? ''} ${s.type}: ${what}`,
        detail: endpoint.addresses?.[0],
        ...(s.type === 'LIST' ? { fallback: 'first seen in a relist after a watch gap: the change happened earlier' } : {}),
      },
    ];
  }
  return [];
}

/** `--expose PORT`: the Service, then the pod's address in its EndpointSlice, then ready there. */
function serviceRows(podName: string): MilestoneSpec[] {
  return [
    {
      id: 'service.created',
      label: 'Service created',
      stepLabel: 'API server stores the Service, allocates a cluster IP',
      component: 'apiserver',
      after: ['api.accepted'],
      timedWhenSeen: true,
      candidates: (c) =>
        clientStep(c, 'service-created', (d) => {
          const spec = (d.service as { spec?: { clusterIP?: string } } | undefined)?.spec;
          return spec?.clusterIP ? `cluster IP ${spec.clusterIP}` : undefined;
        }),
    },
    {
      id: 'service.endpoint-added',
      label: 'pod address in the EndpointSlice',
      stepLabel: 'EndpointSlice controller adds the pod',
      component: 'controller-manager',
      after: ['service.created'],
      timedWhenSeen: true,
      candidates: (c) => sliceSighting(c, podName, 'the pod listed', () => true),
    },
    {
      id: 'service.endpoint-ready',
      label: 'endpoint ready (Service routes to it)',
      stepLabel: 'EndpointSlice controller marks the address ready',
      component: 'controller-manager',
      after: ['service.endpoint-added', 'pod.ready'],
      timedWhenSeen: true,
      candidates: (c) => sliceSighting(c, podName, 'the pod ready', (ready) => ready),
    },
  ];
}

function clientStep(ctx: Context, type: string, detail?: (data: Record<string, unknown>) => string | undefined): Candidate[] {
  const o = ctx.client.get(type)?.[0];
  if (!o) return [];
  return [
    {
      kind: 'client',
      source: 'client-clock',
      precisionMs: PRECISION_MS['client-clock'],
      clientMs: o.observedAt,
      evidence: `client ${type}`,
      detail: detail?.(o.data ?? {}),
    },
  ];
}

function fromEvent(e: NormalizedEvent | undefined, detail?: string): Candidate[] {
  if (!e?.first) return [];
  return [
    {
      kind: 'event',
      source: e.first.source,
      precisionMs: e.first.precisionMs,
      serverMs: e.first.ms,
      observedAt: e.firstObservedAt,
      evidence: `${e.api === 'core/v1' ? 'event' : 'events.k8s.io event'} ${e.name} (${e.reason}${e.count > 1 ? `, count ${e.count}` : ''})`,
      detail,
      fallback: e.first.fallbackReason,
    },
  ];
}

function firstEvent(events: NormalizedEvent[]): NormalizedEvent | undefined {
  return events[0]; // podEvents are sorted by first occurrence
}

function firstSnapshot(ctx: Context, test: (pod: Pod) => boolean, after?: number): PodSnapshot | undefined {
  return ctx.snapshots.find((s) => (after === undefined || s.observedAt >= after) && s.type !== 'DELETED' && test(s.pod));
}

function watched(s: PodSnapshot | undefined, what: string, detail?: string): Candidate[] {
  if (!s) return [];
  return [
    {
      kind: 'status',
      source: 'watch-observed',
      precisionMs: PRECISION_MS['watch-observed'],
      clientMs: s.observedAt,
      evidence: `pod ${s.type === 'POST' ? 'create response' : `${s.type} #${s.seq}`}: ${what}`,
      detail,
      fallback: s.type === 'LIST' ? 'first seen in a relist after a watch gap: the change happened earlier' : undefined,
    },
  ];
}

function field(
  s: PodSnapshot | undefined,
  value: string | undefined,
  source: 'status-field-s' | 'condition-s',
  what: string,
  detail?: string,
): Candidate[] {
  const t = parseSecondsTime(value, source);
  if (!s || !t) return [];
  return [{ kind: 'status', source, precisionMs: t.precisionMs, serverMs: t.ms, observedAt: s.observedAt, evidence: `${what} ${t.raw}`, detail }];
}

function condition(pod: Pod | undefined, type: string): PodCondition | undefined {
  return pod?.status?.conditions?.find((c) => c.type === type);
}

function conditionTrue(ctx: Context, type: string, detail?: (pod: Pod) => string | undefined): Candidate[] {
  const s = firstSnapshot(ctx, (p) => condition(p, type)?.status === 'True');
  if (!s) return [];
  const d = detail?.(s.pod);
  return [
    ...watched(s, `${type}=True`, d),
    ...field(s, condition(s.pod, type)?.lastTransitionTime, 'condition-s', `condition ${type} lastTransitionTime`, d),
  ];
}

// ---- rows --------------------------------------------------------------------

function containerRows(ref: ContainerRef, gate: string): MilestoneSpec[] {
  const name = ref.name;
  const base = `container.${name}`;
  const rows: MilestoneSpec[] = [];
  const kindLabel = ref.kind === 'app' ? 'container' : ref.kind === 'sidecar' ? 'sidecar' : 'init container';
  const pulledEvent = (ctx: Context) => firstEvent(kubeletEvents(ctx, 'Pulled', ref.fieldPath));
  const pulledKind = (ctx: Context) => {
    const e = pulledEvent(ctx);
    return e ? parsePulledMessage(e.message)?.kind : undefined;
  };

  rows.push({
    id: `${base}.pulling`,
    label: `${kindLabel} ${name}: pulling image`,
    stepLabel: 'kubelet gets to the container (earlier containers, volumes)',
    component: 'kubelet',
    container: name,
    after: [gate],
    candidates: (ctx) => fromEvent(firstEvent(kubeletEvents(ctx, 'Pulling', ref.fieldPath)), ref.spec.image),
  });
  rows.push({
    id: `${base}.pull-failed`,
    failure: true,
    label: `${kindLabel} ${name}: image pull failed`,
    stepLabel: 'image pull (failed)',
    component: 'runtime',
    container: name,
    after: [`${base}.pulling`],
    candidates: (ctx) => {
      const failed = pullFailedEvents(ctx, ref);
      const first = firstEvent(failed);
      if (!first) return [];
      const attempts = failed.reduce((n, e) => n + e.count, 0);
      const kind = classifyPullFailure(first.message);
      const cause = pullFailureCause(first.message);
      const what = kind !== 'other' ? kind : cause ? `pull error: ${cause}` : 'pull error';
      const detail = `${what}${attempts > 1 ? `, ${attempts} attempts` : ''}`;
      return fromEvent(first, detail);
    },
  });
  rows.push({
    id: `${base}.pull-back-off`,
    failure: true,
    label: `${kindLabel} ${name}: image pull backing off`,
    stepLabel: 'kubelet waits before pulling again (ImagePullBackOff)',
    component: 'kubelet',
    container: name,
    after: [`${base}.pull-failed`],
    candidates: (ctx) => {
      const e = firstEvent(backOffEvents(ctx, ref, 'pull'));
      const s = firstSnapshot(ctx, (p) => containerStatus(p, ref)?.state?.waiting?.reason === 'ImagePullBackOff');
      return [...fromEvent(e, e?.message), ...watched(s, `${name} waiting ImagePullBackOff`)];
    },
  });
  rows.push({
    id: `${base}.pulled`,
    label: `${kindLabel} ${name}: image pulled`,
    stepLabel: 'image pull (runtime)',
    component: 'runtime',
    container: name,
    after: [`${base}.pulling`],
    candidates: (ctx) => {
      if (pulledKind(ctx) !== 'pulled') return [];
      const msg = parsePulledMessage(pulledEvent(ctx)!.message);
      const detail =
        msg?.kind === 'pulled'
          ? [
              `kubelet: ${formatMs(msg.pullMs)}`,
              msg.includingWaitingMs !== undefined ? `${formatMs(msg.includingWaitingMs)} incl. waiting` : undefined,
              msg.imageSizeBytes !== undefined ? `${msg.imageSizeBytes} bytes` : undefined,
            ]
              .filter(Boolean)
              .join(', ')
          : undefined;
      return fromEvent(pulledEvent(ctx), detail);
    },
  });
  rows.push({
    id: `${base}.image-present`,
    exclusiveWith: [`${base}.pulling`, `${base}.pulled`],
    label: `${kindLabel} ${name}: image already present`,
    stepLabel: 'kubelet gets to the container, image found on the node',
    component: 'kubelet',
    container: name,
    after: [gate],
    candidates: (ctx) => (pulledKind(ctx) === 'present' ? fromEvent(pulledEvent(ctx), ref.spec.image) : []),
  });
  rows.push({
    id: `${base}.created`,
    label: `${kindLabel} ${name}: created`,
    stepLabel: 'create container (runtime)',
    component: 'runtime',
    container: name,
    after: [`${base}.pulled`, `${base}.image-present`],
    candidates: (ctx) => fromEvent(firstEvent(kubeletEvents(ctx, 'Created', ref.fieldPath))),
  });
  rows.push({
    id: `${base}.started`,
    label: `${kindLabel} ${name}: started`,
    stepLabel: 'start container (runtime)',
    component: 'runtime',
    container: name,
    expects: `kubelet Started event for ${name}`,
    after: [`${base}.created`],
    candidates: (ctx) => {
      const hasStarted = (p: Pod) => {
        const st = containerStatus(p, ref)?.state;
        return Boolean(st?.running?.startedAt || st?.terminated?.startedAt);
      };
      const s = firstSnapshot(ctx, hasStarted);
      const st = s ? containerStatus(s.pod, ref)?.state : undefined;
      return [
        ...fromEvent(firstEvent(kubeletEvents(ctx, 'Started', ref.fieldPath))),
        ...watched(s, `${name} running`),
        ...field(s, st?.running?.startedAt ?? st?.terminated?.startedAt, 'status-field-s', `${name} state startedAt`),
      ];
    },
  });
  rows.push({
    id: `${base}.exited`,
    failure: true,
    label: `${kindLabel} ${name}: exited`,
    stepLabel: 'container runs, then exits',
    component: 'runtime',
    container: name,
    after: [`${base}.started`],
    candidates: (ctx) => {
      const deleteSentAt = ctx.deleteSentAt ?? Infinity;
      const exited = (p: Pod) => {
        const st = containerStatus(p, ref);
        const t = st?.lastState?.terminated ?? st?.state?.terminated;
        // An init container exiting 0 is its success (the .completed row), not a failure.
        return t !== undefined && !(ref.kind === 'init' && t.exitCode === 0);
      };
      const s = ctx.snapshots.find((x) => x.observedAt < deleteSentAt && x.type !== 'DELETED' && exited(x.pod));
      const st = s ? containerStatus(s.pod, ref) : undefined;
      const t = st?.lastState?.terminated ?? st?.state?.terminated;
      const detail = t ? `exit code ${t.exitCode ?? '?'}${t.reason ? ` (${t.reason})` : ''}` : undefined;
      return [...watched(s, `${name} terminated`, detail), ...field(s, t?.finishedAt, 'status-field-s', `${name} finishedAt`, detail)];
    },
  });
  rows.push({
    id: `${base}.crash-loop-back-off`,
    failure: true,
    label: `${kindLabel} ${name}: CrashLoopBackOff`,
    stepLabel: 'kubelet restarts it, then backs off',
    component: 'kubelet',
    container: name,
    after: [`${base}.exited`],
    candidates: (ctx) => {
      const e = firstEvent(backOffEvents(ctx, ref, 'restart'));
      return [
        ...fromEvent(e),
        ...watched(
          firstSnapshot(ctx, (p) => containerStatus(p, ref)?.state?.waiting?.reason === 'CrashLoopBackOff'),
          `${name} waiting CrashLoopBackOff`,
        ),
      ];
    },
  });
  if (ref.kind === 'init') {
    rows.push({
      id: `${base}.completed`,
      label: `init container ${name}: completed`,
      stepLabel: `init container ${name} runs to completion`,
      component: 'kubelet',
      container: name,
      after: [`${base}.started`],
      candidates: (ctx) => {
        const s = firstSnapshot(ctx, (p) => containerStatus(p, ref)?.state?.terminated?.exitCode === 0);
        const t = s ? containerStatus(s.pod, ref)?.state?.terminated : undefined;
        return [...watched(s, `${name} terminated, exit 0`), ...field(s, t?.finishedAt, 'status-field-s', `${name} finishedAt`)];
      },
    });
  }
  return rows;
}

function containerReadyRows(ref: ContainerRef, clockOffsetMs: number): MilestoneSpec[] {
  return [
    {
      id: `container.${ref.name}.readiness-failed`,
      label: `container ${ref.name}: readiness probe failed`,
      stepLabel: 'first readiness probes',
      component: 'kubelet',
      container: ref.name,
      after: [`container.${ref.name}.started`],
      candidates: (ctx) => {
        // Only failures before the container was seen ready are part of its start (--observe sees later ones).
        const readyAt = firstSnapshot(ctx, (p) => containerStatus(p, ref)?.ready === true)?.observedAt ?? Infinity;
        const unhealthy = kubeletEvents(ctx, 'Unhealthy', ref.fieldPath).filter(
          (e) => probeKind(e.message) === 'readiness' && (e.first === undefined || e.first.ms - clockOffsetMs < readyAt),
        );
        const e = firstEvent(unhealthy);
        return fromEvent(e, e ? `${e.message}${e.count > 1 ? ` (${e.count} times)` : ''}` : undefined);
      },
    },
    containerReadyRow(ref),
  ];
}

function containerReadyRow(ref: ContainerRef): MilestoneSpec {
  return {
    id: `container.${ref.name}.ready`,
    label: `${ref.kind === 'sidecar' ? 'sidecar' : 'container'} ${ref.name}: ready`,
    stepLabel: ref.spec.readinessProbe ? 'readiness probe passes' : 'kubelet reports the container ready',
    component: 'kubelet',
    container: ref.name,
    after: [`container.${ref.name}.started`, `container.${ref.name}.readiness-failed`],
    candidates: (ctx) => watched(firstSnapshot(ctx, (p) => containerStatus(p, ref)?.ready === true), `${ref.name} ready`),
  };
}

function reviewCandidates(ctx: Context, verb: 'create' | 'delete'): Candidate[] {
  // Both reviews run in parallel and arrive in either order: pick by verb, never by position.
  const o = (ctx.client.get('access-review') ?? []).find((x) => x.data?.verb === verb && (x.data?.resource ?? 'pods') === 'pods');
  if (!o) return [];
  const d = o.data ?? {};
  const what = `${verb} pods`;
  const detail =
    d.error !== undefined
      ? `${what}: review failed (${typeof d.error === 'string' ? d.error : JSON.stringify(d.error)})${verb === 'create' ? ': the POST will tell' : ''}`
      : d.allowed === true
        ? `${what}: allowed`
        : `${what}: not allowed${verb === 'delete' ? ': podtrace cannot clean up after itself' : ''}${typeof d.reason === 'string' && d.reason ? ` (${d.reason})` : ''}`;
  return [
    {
      kind: 'client',
      source: 'client-clock',
      precisionMs: PRECISION_MS['client-clock'],
      clientMs: o.observedAt,
      evidence: `client access-review (${verb})`,
      detail,
    },
  ];
}

/**
 * The whole table for this pod (container rows depend on its spec).
 * `clockOffsetMs` (server - client) lets rows compare server times with client steps.
 */
export function milestoneTable(ctx: Context, clockOffsetMs = 0): MilestoneSpec[] {
  const refs = containerRefs(ctx);
  const initRefs = refs.filter((r) => r.kind !== 'app');
  const appRefs = refs.filter((r) => r.kind === 'app');
  const deleteSentAt = ctx.deleteSentAt;

  const rows: MilestoneSpec[] = [
    {
      id: 'client.kubeconfig',
      label: 'kubeconfig loaded',
      stepLabel: 'read kubeconfig',
      component: 'client',
      candidates: (c) =>
        clientStep(c, 'kubeconfig-loaded', (d) => [d.context, d.server].filter((v) => typeof v === 'string').join(' @ ') || undefined),
    },
    {
      id: 'client.credentials',
      label: 'credentials resolved',
      stepLabel: 'resolve credentials (token, certificate, exec plugin)',
      component: 'client',
      after: ['client.kubeconfig'],
      candidates: (c) => clientStep(c, 'credentials-resolved', (d) => (typeof d.method === 'string' ? d.method : undefined)),
    },
    {
      id: 'client.identity',
      label: 'identity (SelfSubjectReview)',
      stepLabel: 'API server authenticates the user',
      component: 'apiserver',
      after: ['client.credentials'],
      candidates: (c) =>
        clientStep(c, 'self-subject-review', (d) =>
          typeof d.username === 'string' ? d.username : typeof d.error === 'string' ? `error: ${d.error}` : undefined,
        ),
    },
    {
      id: 'client.authorized',
      label: 'may create pods (access review)',
      stepLabel: 'API server authorizes: can I create pods?',
      component: 'apiserver',
      after: ['client.credentials'],
      candidates: (c) => reviewCandidates(c, 'create'),
    },
    {
      id: 'client.may-delete',
      label: 'may delete pods (access review)',
      stepLabel: 'API server authorizes: can I delete pods (cleanup)?',
      component: 'apiserver',
      after: ['client.credentials'],
      candidates: (c) => reviewCandidates(c, 'delete'),
    },
    {
      id: 'api.post-sent',
      label: 'POST pod sent',
      stepLabel: 'client builds the request',
      component: 'client',
      after: ['client.authorized'],
      candidates: (c) => clientStep(c, 'post-sent'),
    },
    {
      id: 'api.accepted',
      label: 'API server stored the pod',
      stepLabel: 'authn, authz, admission, validation, etcd write',
      component: 'apiserver',
      after: ['api.post-sent'],
      timedWhenSeen: true,
      candidates: (c) => {
        const creation = c.stored?.metadata?.creationTimestamp ?? c.snapshots[0]?.pod.metadata?.creationTimestamp;
        const detail = creation ? `creationTimestamp ${creation}` : undefined;
        const first = c.snapshots.find((s) => s.type !== 'POST');
        // The response and the watch both say "stored by now": the earlier of the two is the tighter bound.
        const seen = [...clientStep(c, 'post-response', () => detail), ...watched(first, 'first sighting', detail)].sort(
          (a, b) => a.clientMs! - b.clientMs!,
        );
        return [...seen.slice(0, 1), ...field(c.snapshots[0], creation, 'status-field-s', 'metadata.creationTimestamp', detail)];
      },
    },
    {
      id: 'scheduler.failed-scheduling',
      failure: true,
      label: 'first scheduling attempt failed',
      stepLabel: 'scheduling queue, filter (no node fits)',
      component: 'scheduler',
      after: ['api.accepted'],
      candidates: (c) => {
        const failed = schedulerEvents(c, 'FailedScheduling');
        const e = firstEvent(failed);
        return fromEvent(e, e?.message);
      },
    },
    {
      id: 'scheduler.scheduled',
      label: 'scheduled to a node',
      stepLabel: 'scheduling queue, filter, score, bind',
      component: 'scheduler',
      expects: 'Scheduled event from the scheduler',
      after: ['api.accepted', 'scheduler.failed-scheduling'],
      candidates: (c) => {
        const e = firstEvent(schedulerEvents(c, 'Scheduled'));
        const node = (p: Pod) => p.spec?.nodeName;
        const nodeName = c.latestPod?.spec?.nodeName ?? (e ? nodeFromScheduledMessage(e.message) : undefined);
        const detail = nodeName ? `node ${nodeName}` : undefined;
        const s = firstSnapshot(c, (p) => Boolean(node(p)) || condition(p, 'PodScheduled')?.status === 'True');
        return [
          ...fromEvent(e, detail),
          ...watched(s, 'spec.nodeName set', detail),
          ...field(s, s ? condition(s.pod, 'PodScheduled')?.lastTransitionTime : undefined, 'condition-s', 'condition PodScheduled lastTransitionTime', detail),
        ];
      },
    },
    {
      id: 'kubelet.acknowledged',
      label: 'kubelet acknowledged the pod',
      stepLabel: 'kubelet sees the binding and starts syncing the pod',
      component: 'kubelet',
      after: ['scheduler.scheduled'],
      candidates: (c) => {
        const s = firstSnapshot(c, (p) => Boolean(p.status?.startTime));
        return [...watched(s, 'status.startTime set'), ...field(s, s?.pod.status?.startTime, 'status-field-s', 'status.startTime')];
      },
    },
    {
      id: 'runtime.sandbox-failed',
      failure: true,
      label: 'pod sandbox creation failed',
      stepLabel: 'sandbox (pause container), CNI network setup (failed)',
      component: 'runtime',
      after: ['kubelet.acknowledged'],
      candidates: (c) => {
        const e = firstEvent(kubeletEvents(c, 'FailedCreatePodSandBox'));
        return fromEvent(e, e?.message);
      },
    },
    {
      id: 'runtime.sandbox-ready',
      label: 'pod sandbox and network ready',
      stepLabel: 'volumes, sandbox (pause container), CNI network setup',
      component: 'runtime',
      after: ['kubelet.acknowledged'],
      candidates: (c) => {
        const ip = (p: Pod) => (p.status?.podIP ? `podIP ${p.status.podIP}` : undefined);
        const viaCondition = conditionTrue(c, 'PodReadyToStartContainers', ip);
        if (viaCondition.length) return viaCondition;
        // Clusters before 1.29 (or with the gate off) have no such condition: the pod IP is the next best sign.
        const s = firstSnapshot(c, (p) => Boolean(p.status?.podIP));
        return watched(s, 'status.podIP set', s ? ip(s.pod) : undefined).map((x) => ({
          ...x,
          fallback: 'no PodReadyToStartContainers condition: timed from the first pod IP',
        }));
      },
    },
  ];

  // Init containers run one after the other (a sidecar only has to start); app containers after all of them.
  const doneId = (ref: ContainerRef) => `container.${ref.name}.${ref.kind === 'sidecar' ? 'started' : 'completed'}`;
  let gate = 'runtime.sandbox-ready';
  for (const ref of initRefs) {
    rows.push(...containerRows(ref, gate), ...(ref.kind === 'sidecar' ? containerReadyRows(ref, clockOffsetMs) : []));
    gate = doneId(ref);
  }
  if (initRefs.length > 0) {
    rows.push({
      id: 'pod.initialized',
      label: 'init containers done',
      stepLabel: 'kubelet reports initialization complete',
      component: 'kubelet',
      after: initRefs.map(doneId),
      candidates: (c) => conditionTrue(c, 'Initialized'),
    });
    gate = 'pod.initialized';
  }
  for (const ref of appRefs) rows.push(...containerRows(ref, gate));
  for (const ref of appRefs) rows.push(...containerReadyRows(ref, clockOffsetMs));
  const readyIds = refs.filter((r) => r.kind !== 'init').map((r) => `container.${r.name}.ready`);

  rows.push(
    {
      id: 'pod.containers-ready',
      label: 'all containers ready',
      stepLabel: 'kubelet reports all containers ready',
      component: 'kubelet',
      after: readyIds,
      candidates: (c) => conditionTrue(c, 'ContainersReady'),
    },
    {
      id: 'pod.ready',
      label: 'pod Ready',
      stepLabel: 'kubelet reports the pod Ready',
      component: 'kubelet',
      after: ['pod.containers-ready'],
      candidates: (c) => conditionTrue(c, 'Ready'),
    },
    ...(ctx.header.options.expose !== undefined ? serviceRows(ctx.header.podName) : []),
    {
      id: 'teardown.delete-sent',
      label: 'DELETE pod sent',
      stepLabel: 'podtrace holds the pod, then deletes it',
      component: 'client',
      candidates: (c) => clientStep(c, 'delete-sent'),
    },
    {
      id: 'teardown.killing',
      label: 'kubelet stopping containers',
      stepLabel: 'kubelet sees the deletion',
      component: 'kubelet',
      after: ['teardown.delete-sent'],
      candidates: (c) => {
        if (deleteSentAt === undefined) return [];
        // Liveness failures kill containers too: only kills at or after the DELETE are teardown.
        const kills = kubeletEvents(c, 'Killing').filter(
          (e) => e.first !== undefined && e.first.ms + e.first.precisionMs - clockOffsetMs >= deleteSentAt,
        );
        return fromEvent(firstEvent(kills));
      },
    },
    {
      id: 'teardown.containers-terminated',
      label: 'containers terminated',
      stepLabel: 'containers stop (grace period, SIGTERM)',
      component: 'runtime',
      after: ['teardown.delete-sent', 'teardown.killing'],
      candidates: (c) => {
        if (deleteSentAt === undefined) return [];
        const allTerminated = (p: Pod) => {
          const all = [...(p.status?.containerStatuses ?? [])];
          return all.length > 0 && all.every((st) => st.state?.terminated !== undefined && st.state.running === undefined);
        };
        const s = firstSnapshot(c, allTerminated, deleteSentAt);
        const finished = s?.pod.status?.containerStatuses
          ?.map((st) => st.state?.terminated?.finishedAt)
          .filter((v): v is string => Boolean(v))
          .sort()
          .at(-1);
        // A container that had already exited (crash loop, failed pull) keeps its old finishedAt:
        // that time is not the teardown's and must not stand in for the sighting.
        const t = parseSecondsTime(finished, 'status-field-s');
        const afterDelete = t !== undefined && t.ms + t.precisionMs - clockOffsetMs >= deleteSentAt;
        return [
          ...watched(s, 'all containers terminated'),
          ...(afterDelete ? field(s, finished, 'status-field-s', 'latest finishedAt') : []),
        ];
      },
    },
    {
      id: 'teardown.pod-gone',
      label: 'pod deleted from the API',
      stepLabel: 'kubelet confirms, API server removes the object',
      component: 'apiserver',
      after: ['teardown.delete-sent', 'teardown.containers-terminated'],
      timedWhenSeen: true,
      candidates: (c) => {
        const deleted = c.snapshots.find((s) => s.type === 'DELETED');
        return [...clientStep(c, 'pod-gone'), ...(deleted ? watched(deleted, 'DELETED') : [])];
      },
    },
  );
  // An inspection's own client steps happen long after the pod's story: they are not part of it.
  return ctx.header.options.inspect || ctx.header.options.watch ? rows.filter((r) => r.component !== 'client') : rows;
}
