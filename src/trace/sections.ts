/**
 * The trace's descriptive sections, each read from the observations: the
 * cluster and identity, the access reviews, admission, the pod, its
 * scheduling attempts and containers, and the --expose Service. Pure.
 */
import { diffAdmission } from './admission-diff.js';
import { containerRefs, containerStatus, kubeletEvents, podEndpoint, schedulerEvents, watchPrecision, type Context } from './context.js';
import { clusterIPOf, describeHandler, num, serviceDnsName, str, type NormalizedEvent } from './kube-objects.js';
import { describeProbe } from './cause.js';
import { parsePulledMessage, probeKind } from './messages.js';
import { roundMs } from './format-ms.js';
import { pullFailureFor } from './diagnose.js';
import type { ServiceInfo, ServiceReach } from './section-types.js';
import type { AccessReview, Admission, ClusterInfo, ContainerInfo, Identity, PodInfo, ProbeFailure, SchedulingAttempt } from './types.js';
import { present } from './place-milestones.js';

export function clusterInfo(ctx: Context): ClusterInfo | null {
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

export function identity(ctx: Context): Identity | null {
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

export function accessReviews(ctx: Context): AccessReview[] {
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

export function admission(ctx: Context): Admission {
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

export function podInfo(ctx: Context): PodInfo {
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

function placeEvent(ctx: Context, e: NormalizedEvent, offsetMs: number): { at: number; source: SchedulingAttempt['source']; precisionMs: number } {
  if (!e.first) return { at: e.firstObservedAt, source: 'watch-observed', precisionMs: watchPrecision(ctx) };
  return { at: e.first.ms - offsetMs, source: e.first.source, precisionMs: e.first.precisionMs };
}

export function schedulingAttempts(ctx: Context, offsetMs: number, t0: number): SchedulingAttempt[] {
  return schedulerEvents(ctx, 'FailedScheduling').map((e) => {
    const p = placeEvent(ctx, e, offsetMs);
    return { at: p.at, offsetMs: roundMs(p.at - t0), source: p.source, precisionMs: p.precisionMs, reason: e.reason, message: e.message, count: e.count };
  });
}

function probeFailures(ctx: Context, fieldPath: string, offsetMs: number, t0: number): ProbeFailure[] {
  const out: ProbeFailure[] = [];
  for (const e of kubeletEvents(ctx, 'Unhealthy', fieldPath)) {
    const probe = probeKind(e.message);
    if (!probe) continue;
    const p = placeEvent(ctx, e, offsetMs);
    const f: ProbeFailure = { probe, at: p.at, offsetMs: roundMs(p.at - t0), source: p.source, precisionMs: p.precisionMs, count: e.count, message: e.message };
    // A 1-s lastTimestamp can read earlier than the ns-precise first failure: never list it before.
    if (e.count > 1 && e.last) f.lastOffsetMs = Math.max(f.offsetMs, roundMs(e.last.ms - offsetMs - t0));
    out.push(f);
  }
  return out;
}

/** Containers as they were before the teardown (a deleted pod's statuses lose lastState). */
export function containersInfo(ctx: Context, offsetMs: number, t0: number): ContainerInfo[] {
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
    const readiness = describeProbe(ref.spec.readinessProbe);
    if (readiness) info.readinessProbe = readiness;
    if (ref.spec.lifecycle?.postStart) info.postStart = describeHandler(ref.spec.lifecycle.postStart);
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

/** `--expose PORT`: the Service, its DNS name and whether a cluster DNS serves it, the pod's endpoint. */
export function serviceSection(ctx: Context): { service?: ServiceInfo } {
  const port = ctx.header.options.expose;
  if (port === undefined) return {};
  const { namespace, podName } = ctx.header;
  const clusterIP = clusterIPOf(ctx.client.get('service-created')?.[0]?.data?.service);
  const failed = ctx.client.get('service-error')?.[0]?.data;
  const dns = ctx.client.get('cluster-dns')?.[0]?.data;
  const service: ServiceInfo = {
    name: podName,
    namespace,
    port,
    ...(clusterIP ? { clusterIP } : {}),
    dnsName: serviceDnsName(podName, namespace),
    clusterDns: dns?.found === true ? 'found' : dns?.found === false ? 'absent' : 'unknown',
  };
  // The endpoint as last seen before the teardown (the DELETE takes it out of the slice).
  const before = ctx.slices.filter((s) => s.type !== 'DELETED' && (ctx.deleteSentAt === undefined || s.observedAt < ctx.deleteSentAt));
  for (const s of before) {
    const e = podEndpoint(s.slice, podName);
    if (e?.addresses?.[0]) service.endpoint = { address: e.addresses[0], ready: e.conditions?.ready === true };
  }
  const reach = (ctx.client.get('service-reach') ?? []).flatMap((o): ServiceReach[] => {
    const d = o.data ?? {};
    if ((d.what !== 'route' && d.what !== 'dns') || typeof d.target !== 'string') return [];
    const error = str(d.error);
    const node = str(d.node);
    const ok = d.ok === true;
    return [
      {
        vantage: d.vantage === 'pod' ? 'pod' : 'client',
        ...(node !== undefined ? { node } : {}),
        what: d.what,
        target: d.target,
        ok,
        attempts: num(d.attempts) ?? 0,
        ...(ok && d.vantage === 'pod' && d.previousAttemptAt === undefined ? { firstTry: true as const } : {}),
        ...(error !== undefined && !ok ? { error } : {}),
      },
    ];
  });
  if (reach.length > 0) service.reach = reach;
  const probeCreate = ctx.client.get('reach-pod')?.[0]?.data;
  const probeResult = ctx.client.get('reach-pod-result')?.[0]?.data;
  const probeError = probeCreate?.created === false ? str(probeCreate.error) : str(probeResult?.error);
  // a probe that said where it stood has its lines in `reach`; one without a line is said here
  if (probeCreate !== undefined && probeError !== undefined && !reach.some((r) => r.vantage === 'pod')) {
    const node = str(probeResult?.node);
    const image = str(probeCreate.image);
    service.probe = { pod: str(probeCreate.pod) ?? '', ...(image !== undefined ? { image } : {}), ...(node !== undefined ? { node } : {}), error: probeError };
  }
  if (failed) service.error = [num(failed.status), str(failed.reason)].filter((x) => x !== undefined).join(' ') + `: ${str(failed.message) ?? 'no message'}`;
  return { service };
}
