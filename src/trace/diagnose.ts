/**
 * What the pod is stuck in right now, from the components' own evidence: a
 * rejected POST (validation, admission, RBAC), a scheduling failure, a pull
 * failure and its kind, a crash loop, a config or sandbox error, a readiness
 * probe that never passes. outcome.ts turns it into the trace's outcome. Pure.
 */
import { EXIT, type ExitCode } from '../exit-codes.js';
import { backOffEvents, beforeTeardown, containerRefs, containerStatus, kubeletEvents, pullFailedEvents, schedulerEvents, type Context, type ContainerRef } from './context.js';
import type { Pod } from './kube-objects.js';
import { classifyPullFailure, probeKind, type PullFailureKind } from './messages.js';
import type { Observation } from './observation.js';
import type { Milestone, SuspectedFailure, Trace } from './types.js';
import { OUTCOME_EXIT, OUTCOME_HINT } from './outcome-classes.js';

export type FailureClass = SuspectedFailure['class'];

const PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff']);
const CONFIG_REASONS = new Set([
  'CreateContainerConfigError',
  'CreateContainerError',
  'InvalidImageName',
  'RunContainerError',
  'ErrImageNeverPull',
  'PreStartHookError',
]);
// These cannot clear up by waiting: the spec itself is wrong.
const CERTAIN_CONFIG_REASONS = new Set(['InvalidImageName', 'ErrImageNeverPull']);

export function failure(
  cls: FailureClass,
  since: number,
  terminal: boolean,
  fields: { reason?: string; message?: string; phase?: string; hint?: string; exitCode?: ExitCode },
): SuspectedFailure {
  return withoutUndefined({
    class: cls,
    reason: fields.reason || undefined,
    message: fields.message || undefined,
    phase: fields.phase,
    hint: fields.hint ?? OUTCOME_HINT[cls],
    exitCode: fields.exitCode ?? (OUTCOME_EXIT[cls] as ExitCode),
    terminal,
    since,
  });
}

/** Trace objects carry no undefined members: what is unknown is absent. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Client time from which `holds` has been true on every pod snapshot up to the latest. */
function holdingSince(ctx: Context, holds: (pod: Pod) => boolean): number | undefined {
  let since: number | undefined;
  for (let i = ctx.snapshots.length - 1; i >= 0; i--) {
    const s = ctx.snapshots[i]!;
    if (s.type === 'DELETED') continue;
    if (!holds(s.pod)) break;
    since = s.observedAt;
  }
  return since;
}

export interface PostErrorClass {
  cls: FailureClass;
  reason?: string;
  message: string;
  /** Set when the advice is more specific than the class's OUTCOME_HINT. */
  hint?: string;
  /** Set when the exit code is not the class's OUTCOME_EXIT. */
  exitCode?: ExitCode;
}

/**
 * The rejection of the POST itself, from its HTTP status and the server's
 * wording. `target` names the pod in the advice when the name is taken.
 */
export function classifyPostError(
  data: Record<string, unknown>,
  target?: { namespace: string; podName: string },
): PostErrorClass {
  const status = typeof data.status === 'number' ? data.status : Number(data.status);
  const message = typeof data.message === 'string' ? data.message : '';
  const reason = typeof data.reason === 'string' ? data.reason : undefined;
  const admission = /admission webhook|ValidatingAdmissionPolicy|denied the request|admission plugin|violates PodSecurity|exceeded quota|must specify (limits|requests)|usage per (Container|Pod) is/i;
  if (status === 409 || reason === 'AlreadyExists') {
    // Not a cluster failure: the name is taken (and the pod is not ours, so it is left alone).
    const details = data.details !== null && typeof data.details === 'object' ? (data.details as Record<string, unknown>) : {};
    const name = (typeof details.name === 'string' && details.name) || /pods? "([^"]+)" already exists/.exec(message)?.[1] || target?.podName;
    const where = target?.namespace ? ` in ${target.namespace}` : '';
    return {
      cls: 'api-error',
      reason: reason ?? 'AlreadyExists',
      message,
      hint: `a pod named ${name ?? 'like this'} already exists${where}: choose another --name or delete it`,
      exitCode: EXIT.usage,
    };
  }
  // A policy or webhook that denied it, whatever status it chose (a ValidatingAdmissionPolicy answers 422 by default).
  const denier = admissionDenier(message);
  if (denier) {
    const hint = `denied by ${denier.kind === 'policy' ? `ValidatingAdmissionPolicy "${denier.name}"${denier.binding ? ` (binding "${denier.binding}")` : ''}` : `admission webhook "${denier.name}"`}: change the pod to satisfy it, or ask its owner (kubectl get ${denier.kind === 'policy' ? 'validatingadmissionpolicy' : 'validatingwebhookconfigurations,mutatingwebhookconfigurations'})`;
    return { cls: 'admission-rejected', reason: reason ?? String(status), message, hint };
  }
  if (status === 422 || status === 400) return { cls: 'validation-rejected', reason: reason ?? 'Invalid', message };
  if (status === 403) {
    if (admission.test(message)) return { cls: 'admission-rejected', reason: reason ?? 'Forbidden', message };
    return { cls: 'forbidden', reason: reason ?? 'Forbidden', message };
  }
  if (admission.test(message) || /failed calling webhook/i.test(message)) {
    return { cls: 'admission-rejected', reason: reason ?? String(status), message };
  }
  return { cls: 'api-error', reason: reason ?? String(status), message };
}

/** Who denied a request, from the API server's message: a ValidatingAdmissionPolicy or an admission webhook (Gatekeeper, Kyverno, ...). */
export function admissionDenier(message: string): { kind: 'policy' | 'webhook'; name: string; binding?: string } | undefined {
  const policy = /ValidatingAdmissionPolicy '([^']+)'(?: with binding '([^']+)')? denied request/.exec(message);
  if (policy) return { kind: 'policy', name: policy[1]!, ...(policy[2] ? { binding: policy[2] } : {}) };
  const webhook = /admission webhook "([^"]+)" denied the request/.exec(message);
  if (webhook) return { kind: 'webhook', name: webhook[1]! };
  return undefined;
}

/**
 * The runtime's reason for a failed pull. The kubelet's `Failed` events carry
 * its error text ("Failed to pull image ...: rpc error: ..."); the container's
 * waiting message repeats it ("Back-off pulling image ...: ErrImagePull: ...").
 */
export function pullFailureFor(
  ctx: Context,
  ref: ContainerRef,
  waitingMessage: string | undefined,
): { kind: PullFailureKind; message: string } | undefined {
  const failed = pullFailedEvents(ctx, ref);
  const messages = [...failed.map((e) => e.message), waitingMessage ?? ''].filter(Boolean);
  for (const m of messages) {
    const kind = classifyPullFailure(m);
    if (kind !== 'other') return { kind, message: m };
  }
  return messages.length ? { kind: 'other', message: messages[0]! } : undefined;
}

function pullClass(kind: PullFailureKind | undefined): FailureClass {
  return kind === 'not-found' ? 'image-pull-not-found' : kind === 'unauthorized' ? 'image-pull-unauthorized' : 'image-pull-backoff';
}

/**
 * A failed pull told by the kubelet's events, before (or without) the
 * container status saying so: the kubelet posts status in batches, while its
 * `Failed` ("Failed to pull image ...") and `BackOff` events come at once.
 * Not when the image was pulled after the failure or the container runs.
 */
function pullFailureFromEvents(ctx: Context, ref: ContainerRef, st: ReturnType<typeof containerStatus>): SuspectedFailure | undefined {
  if (st?.state?.running || st?.state?.terminated) return undefined;
  const failed = pullFailedEvents(ctx, ref);
  const latest = failed.reduce<number | undefined>((t, e) => Math.max(t ?? -Infinity, e.lastObservedAt), undefined);
  if (latest === undefined) return undefined;
  if (kubeletEvents(ctx, 'Pulled', ref.fieldPath).some((e) => e.lastObservedAt > latest)) return undefined;
  const f = pullFailureFor(ctx, ref, undefined);
  const cls = pullClass(f?.kind);
  const backOff = backOffEvents(ctx, ref, 'pull').length > 0;
  return failure(cls, Math.min(...failed.map((e) => e.firstObservedAt)), backOff && cls !== 'image-pull-backoff', {
    reason: backOff ? 'ImagePullBackOff' : 'ErrImagePull',
    message: f?.message,
    phase: `container.${ref.name}.pulled`,
  });
}

function diagnoseContainer(ctx: Context, pod: Pod, ref: ContainerRef): SuspectedFailure | undefined {
  const st = containerStatus(pod, ref);
  const waiting = st?.state?.waiting;
  const reason = waiting?.reason;
  if (reason && PULL_REASONS.has(reason)) {
    const since =
      Math.min(
        holdingSince(ctx, (p) => PULL_REASONS.has(containerStatus(p, ref)?.state?.waiting?.reason ?? '')) ?? ctx.lastObservedAt,
        ...pullFailedEvents(ctx, ref).map((e) => e.firstObservedAt),
      );
    const f = pullFailureFor(ctx, ref, waiting?.message);
    const cls = pullClass(f?.kind);
    // After a definite answer from the registry, backing off cannot help: the status or the kubelet's BackOff event says it is.
    const backingOff = reason === 'ImagePullBackOff' || backOffEvents(ctx, ref, 'pull').length > 0;
    return failure(cls, since, backingOff && cls !== 'image-pull-backoff', {
      reason: backingOff ? 'ImagePullBackOff' : reason,
      message: f?.message ?? waiting?.message,
      phase: `container.${ref.name}.pulled`,
    });
  }
  if (!st) return pullFailureFromEvents(ctx, ref, st);
  if (reason === 'CrashLoopBackOff') {
    const since = holdingSince(ctx, (p) => containerStatus(p, ref)?.state?.waiting?.reason === 'CrashLoopBackOff') ?? ctx.lastObservedAt;
    const last = st.lastState?.terminated;
    const detail = last ? `last exit code ${last.exitCode ?? '?'}${last.reason ? ` (${last.reason})` : ''}` : undefined;
    return failure('crash-loop', since, true, {
      reason,
      message: [waiting?.message, detail].filter(Boolean).join('; ') || undefined,
      phase: `container.${ref.name}.ready`,
    });
  }
  if (reason && CONFIG_REASONS.has(reason)) {
    const since = holdingSince(ctx, (p) => containerStatus(p, ref)?.state?.waiting?.reason === reason) ?? ctx.lastObservedAt;
    return failure('container-config-error', since, CERTAIN_CONFIG_REASONS.has(reason), {
      reason,
      message: waiting?.message,
      phase: `container.${ref.name}.started`,
    });
  }
  const fromEvents = pullFailureFromEvents(ctx, ref, st);
  if (fromEvents) return fromEvents;
  const lastExit = st.lastState?.terminated ?? st.state?.terminated;
  if ((st.restartCount ?? 0) > 0 && lastExit && lastExit.exitCode !== undefined && lastExit.exitCode !== 0 && ref.kind !== 'init') {
    const since = holdingSince(ctx, (p) => (containerStatus(p, ref)?.restartCount ?? 0) > 0) ?? ctx.lastObservedAt;
    // The kubelet's "Back-off restarting failed container" event comes before the status says CrashLoopBackOff.
    const backingOff = !st.state?.running && backOffEvents(ctx, ref, 'restart').length > 0;
    return failure('crash-loop', since, backingOff, {
      reason: lastExit.reason ?? 'Error',
      message: `restarted ${st.restartCount} time(s), last exit code ${lastExit.exitCode}${lastExit.message ? `: ${lastExit.message}` : ''}`,
      phase: `container.${ref.name}.ready`,
    });
  }
  if (ref.kind === 'init' && (st.restartCount ?? 0) > 0 && lastExit && lastExit.exitCode !== 0) {
    const since = holdingSince(ctx, (p) => (containerStatus(p, ref)?.restartCount ?? 0) > 0) ?? ctx.lastObservedAt;
    return failure('crash-loop', since, false, {
      reason: lastExit.reason ?? 'Error',
      message: `init container ${ref.name} failed ${st.restartCount} time(s), last exit code ${lastExit.exitCode}`,
      phase: `container.${ref.name}.completed`,
    });
  }
  return undefined;
}

/** The create review, whichever order the parallel reviews arrived in. */
function createReview(ctx: Context): Observation | undefined {
  return (ctx.client.get('access-review') ?? []).find((o) => o.data?.verb === 'create' && (o.data?.resource ?? 'pods') === 'pods');
}

/**
 * The failure the pod is in right now, if any (most specific first). Reads
 * the pod as it was before podtrace's DELETE: the teardown is not the failure.
 */
export function diagnose(fullCtx: Context, milestones: readonly Milestone[]): SuspectedFailure | undefined {
  const ctx = beforeTeardown(fullCtx);
  const reached = new Set(milestones.map((m) => m.id));
  const postError = ctx.client.get('post-error')?.[0];
  if (postError) {
    const r = classifyPostError(postError.data ?? {}, { namespace: ctx.header.namespace, podName: ctx.header.podName });
    return failure(r.cls, postError.observedAt, true, {
      reason: r.reason,
      message: r.message,
      phase: 'api.accepted',
      ...(r.hint !== undefined ? { hint: r.hint } : {}),
      ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    });
  }
  const review = createReview(ctx);
  if (ctx.postSentAt === undefined && review?.data?.allowed === false) {
    // The SelfSubjectAccessReview said no and podtrace sent nothing: there is no pod to wait for.
    const why = typeof review.data.reason === 'string' && review.data.reason ? `: ${review.data.reason}` : '';
    const username = ctx.client.get('self-subject-review')?.[0]?.data?.username;
    const who = typeof username === 'string' && username ? `${username} is ` : '';
    return failure('forbidden', review.observedAt, true, {
      reason: review.data.denied === true ? 'Denied' : 'Forbidden',
      message: `${who}not allowed to create pods in namespace ${ctx.header.namespace} (SelfSubjectAccessReview)${why}; nothing was created`,
      phase: 'api.post-sent',
    });
  }
  const pod = ctx.latestPod;
  if (!pod) return undefined;

  const phase = pod.status?.phase;
  // a pod that runs to completion (a Job's) may be Ready on its way: its completion still ends it
  const completes = pod.spec?.restartPolicy === 'Never' || pod.spec?.restartPolicy === 'OnFailure';
  if ((phase === 'Failed' || phase === 'Succeeded') && (!reached.has('pod.ready') || completes)) {
    const since = holdingSince(ctx, (p) => p.status?.phase === phase) ?? ctx.lastObservedAt;
    const terminated = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
      .map((s) => ({ name: s.name, t: s.state?.terminated }))
      .find((x) => x.t && x.t.exitCode !== 0);
    const message =
      pod.status?.message ??
      (terminated ? `container ${terminated.name} exited with code ${terminated.t!.exitCode}${terminated.t!.reason ? ` (${terminated.t!.reason})` : ''}` : `pod phase ${phase}`);
    // `podtrace watch` follows pods someone else runs: one that ran to completion (a Job's) did its job
    const watchedSuccess = phase === 'Succeeded' && ctx.header.options.watch === true;
    return failure(phase === 'Succeeded' ? 'succeeded' : 'pod-failed', since, true, {
      reason: pod.status?.reason ?? phase,
      message,
      phase: 'pod.ready',
      ...(watchedSuccess ? { exitCode: EXIT.ok } : {}),
    });
  }

  for (const ref of containerRefs(ctx)) {
    const f = diagnoseContainer(ctx, pod, ref);
    if (f) return f;
  }

  const sandboxFailures = kubeletEvents(ctx, 'FailedCreatePodSandBox');
  if (sandboxFailures.length > 0 && !reached.has('runtime.sandbox-ready')) {
    const latest = sandboxFailures.at(-1)!;
    return failure('sandbox-failure', sandboxFailures[0]!.firstObservedAt, false, {
      reason: latest.reason,
      message: latest.message,
      phase: 'runtime.sandbox-ready',
    });
  }

  if (!pod.spec?.nodeName && !reached.has('scheduler.scheduled')) {
    const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const failed = schedulerEvents(ctx, 'FailedScheduling');
    if (failed.length > 0 || (cond?.status === 'False' && cond.reason === 'Unschedulable')) {
      const latest = failed.at(-1);
      const since =
        failed[0]?.firstObservedAt ??
        holdingSince(ctx, (p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ?? false) ??
        ctx.lastObservedAt;
      return failure('unschedulable', since, false, {
        reason: cond?.reason ?? latest?.reason ?? 'Unschedulable',
        message: latest?.message ?? cond?.message,
        phase: 'scheduler.scheduled',
      });
    }
  }

  const readinessFailures = ctx.podEvents.filter(
    (e) => e.reason === 'Unhealthy' && e.component === 'kubelet' && probeKind(e.message) === 'readiness',
  );
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  if (readinessFailures.length > 0 && !ready) {
    const latest = readinessFailures.at(-1)!;
    const container = /\{(.+)\}$/.exec(latest.regarding.fieldPath ?? '')?.[1];
    return failure('readiness-never-succeeded', readinessFailures[0]!.firstObservedAt, false, {
      reason: latest.reason,
      message: `${latest.message}${latest.count > 1 ? ` (${latest.count} times)` : ''}`,
      phase: container ? `container.${container}.ready` : 'pod.ready',
    });
  }
  return undefined;
}
