/**
 * Why the pod is (not) Ready, in the components' own words, with one line of
 * advice and the exit code. Works on partial runs too: while the run goes on
 * the outcome is 'in-progress' and `suspected` names the failure the pod is
 * in right now, so the CLI can stop early:
 * - isTerminalFailure(trace): waiting cannot help (e.g. ImagePullBackOff after
 *   the registry answered "not found", CrashLoopBackOff, InvalidImageName, a
 *   rejected POST, a Failed pod). Stop now.
 * - settledFailure(trace, now, grace): a failure that could still clear up
 *   (Unschedulable until a node appears, a missing Secret, a sandbox retry) but
 *   has held for `grace` ms. The CLI may stop after a grace period or wait for
 *   its timeout; that policy is the CLI's.
 */
import { EXIT, type ExitCode } from '../exit-codes.js';
import {
  backOffEvents,
  beforeTeardown,
  containerRefs,
  containerStatus,
  kubeletEvents,
  pullFailedEvents,
  schedulerEvents,
  type Context,
  type ContainerRef,
} from './context.js';
import type { Pod } from './kube-objects.js';
import { classifyPullFailure, probeKind, type PullFailureKind } from './messages.js';
import type { Observation } from './observation.js';
import type { Milestone, Outcome, OutcomeClass, SuspectedFailure, Trace } from './types.js';

type FailureClass = SuspectedFailure['class'];

/**
 * The exit code of each class. One exception, decided per failure: a POST
 * answered 409 AlreadyExists is 'api-error' with EXIT.usage (the name the
 * person chose is taken), see classifyPostError.
 */
export const OUTCOME_EXIT: Readonly<Record<OutcomeClass, ExitCode | null>> = {
  ready: EXIT.ok,
  'in-progress': null,
  unschedulable: EXIT.unschedulable,
  'image-pull-not-found': EXIT.imagePullNotFound,
  'image-pull-unauthorized': EXIT.imagePullUnauthorized,
  'image-pull-backoff': EXIT.imagePullBackoff,
  'crash-loop': EXIT.crashLoop,
  'container-config-error': EXIT.containerConfigError,
  'sandbox-failure': EXIT.sandboxFailure,
  'readiness-never-succeeded': EXIT.readinessNeverSucceeded,
  'admission-rejected': EXIT.admissionRejected,
  'validation-rejected': EXIT.validationRejected,
  forbidden: EXIT.forbidden,
  'pod-failed': EXIT.podFailed,
  'api-error': EXIT.internal, // 409 AlreadyExists: EXIT.usage
  timeout: EXIT.timeout,
  interrupted: EXIT.interrupted,
};

export const OUTCOME_HINT: Readonly<Record<OutcomeClass, string>> = {
  ready: 'The pod is Ready.',
  'in-progress': 'Still waiting for the pod to become Ready.',
  unschedulable: 'No node fits the pod: read the scheduler message (resources, taints, node selectors) and adjust the pod or add capacity.',
  'image-pull-not-found': 'The registry says the image does not exist: check the image name and tag.',
  'image-pull-unauthorized': 'The registry refused access: check the image name, or add an imagePullSecret with credentials for it.',
  'image-pull-backoff': 'The image could not be pulled: check the image reference and that the node can reach the registry.',
  'crash-loop': 'The container keeps exiting: check `kubectl logs --previous` and its command, args and environment.',
  'container-config-error': 'The container could not be created as specified: check referenced ConfigMaps/Secrets, the image name and the command.',
  'sandbox-failure': 'The runtime could not create the pod sandbox: check the CNI plugin and the container runtime on the node.',
  'readiness-never-succeeded': 'The container runs but its readiness probe never passed: check the probe path/port and how long the app takes to start.',
  'admission-rejected': 'An admission webhook or policy denied the pod: read its message and change the manifest or the policy.',
  'validation-rejected': 'The API server rejected the manifest as invalid: fix the fields named in the message.',
  forbidden: 'You may not create pods here: ask for RBAC permission (`kubectl auth can-i create pods -n <namespace>`).',
  'pod-failed': 'The pod ended before it was Ready: check the containers\' exit codes and logs.',
  'api-error': 'The API server answered the create request with an error: see its message.',
  timeout: 'Nothing failed, but the pod was not Ready in time: raise --timeout or look at the slowest phase.',
  interrupted: 'Interrupted before the pod was Ready.',
};

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

function failure(
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
function withoutUndefined<T extends object>(value: T): T {
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
  const admission = /admission webhook|ValidatingAdmissionPolicy|denied the request|admission plugin|violates PodSecurity|exceeded quota/i;
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
  if ((phase === 'Failed' || phase === 'Succeeded') && !reached.has('pod.ready')) {
    const since = holdingSince(ctx, (p) => p.status?.phase === phase) ?? ctx.lastObservedAt;
    const terminated = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
      .map((s) => ({ name: s.name, t: s.state?.terminated }))
      .find((x) => x.t && x.t.exitCode !== 0);
    const message =
      pod.status?.message ??
      (terminated ? `container ${terminated.name} exited with code ${terminated.t!.exitCode}${terminated.t!.reason ? ` (${terminated.t!.reason})` : ''}` : `pod phase ${phase}`);
    return failure('pod-failed', since, true, { reason: pod.status?.reason ?? phase, message, phase: 'pod.ready' });
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

function firstMissing(ctx: Context, milestones: readonly Milestone[]): string | undefined {
  // what happened during teardown does not count: the run stopped waiting at the DELETE
  const cut = ctx.deleteSentAt ?? Infinity;
  const reached = new Set(milestones.filter((m) => m.at < cut).map((m) => m.id));
  // each step of the path, with the milestones that count as having passed it
  const path: string[][] = [['api.accepted'], ['scheduler.scheduled'], ['kubelet.acknowledged'], ['runtime.sandbox-ready']];
  for (const ref of containerRefs(ctx)) {
    path.push([`container.${ref.name}.pulled`, `container.${ref.name}.image-present`]);
    path.push([`container.${ref.name}.started`]);
    if (ref.kind === 'init') path.push([`container.${ref.name}.completed`]);
  }
  for (const ref of containerRefs(ctx)) if (ref.kind === 'app') path.push([`container.${ref.name}.ready`]);
  path.push(['pod.ready']);
  return path.find((ids) => !ids.some((id) => reached.has(id)))?.[0];
}

/** The outcome of the run so far. */
export function classifyOutcome(ctx: Context, milestones: readonly Milestone[]): Outcome {
  return withoutUndefined(outcomeOf(ctx, milestones));
}

function outcomeOf(ctx: Context, milestones: readonly Milestone[]): Outcome {
  // Ready counts only when it came before the DELETE: a pod that turns Ready
  // while podtrace tears it down after --timeout still timed out.
  const ready = milestones.find((m) => m.id === 'pod.ready' && (ctx.deleteSentAt === undefined || m.at < ctx.deleteSentAt));
  if (ready) {
    return {
      class: 'ready',
      reason: 'Ready',
      message: `pod Ready ${Math.round(ready.offsetMs)} ms after ${ctx.postSentAt !== undefined ? 'the POST' : 'it was created'}`,
      phase: 'pod.ready',
      hint: OUTCOME_HINT.ready,
      exitCode: EXIT.ok,
      readyAfterMs: ready.offsetMs,
    };
  }
  const suspected = diagnose(ctx, milestones);
  const postError = ctx.client.has('post-error');
  // An inspected pod that is neither Ready nor failing is still on its way.
  if (!ctx.final || (ctx.header.options.inspect && !suspected)) {
    return {
      class: 'in-progress',
      phase: suspected?.phase ?? firstMissing(ctx, milestones),
      hint: suspected?.hint ?? OUTCOME_HINT['in-progress'],
      exitCode: null,
      ...(suspected ? { suspected } : {}),
    };
  }
  const interrupted = ctx.client.get('interrupted')?.[0];
  if (interrupted && !postError) {
    const signal = typeof interrupted.data?.signal === 'string' ? interrupted.data.signal : 'SIGINT';
    return {
      class: 'interrupted',
      reason: signal,
      message: suspected ? `interrupted while ${suspected.class}: ${suspected.message ?? suspected.reason ?? ''}`.trim() : `interrupted by ${signal}`,
      phase: suspected?.phase ?? firstMissing(ctx, milestones),
      hint: suspected?.hint ?? OUTCOME_HINT.interrupted,
      exitCode: signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted,
    };
  }
  if (suspected) {
    const { since: _since, terminal: _terminal, ...rest } = suspected;
    return rest;
  }
  const hinted = doneHint(ctx);
  if (hinted) {
    const done = ctx.client.get('done')?.[0];
    return {
      class: hinted,
      reason: typeof done?.data?.reason === 'string' ? done.data.reason : hinted,
      message: `podtrace stopped waiting on ${hinted}; the observations kept do not show it any more`,
      phase: firstMissing(ctx, milestones),
      hint: OUTCOME_HINT[hinted],
      exitCode: OUTCOME_EXIT[hinted] as ExitCode,
    };
  }
  const podGone = ctx.client.has('pod-gone') || ctx.snapshots.some((s) => s.type === 'DELETED');
  if (podGone && !ctx.client.has('delete-sent')) {
    return {
      class: 'pod-failed',
      reason: 'Deleted',
      message: 'the pod was deleted by someone else before it became Ready',
      phase: firstMissing(ctx, milestones),
      hint: OUTCOME_HINT['pod-failed'],
      exitCode: EXIT.podFailed,
    };
  }
  const timeout = ctx.client.get('timeout')?.[0];
  const afterMs = typeof timeout?.data?.afterMs === 'number' ? timeout.data.afterMs : ctx.header.options.timeoutMs;
  const phase = firstMissing(ctx, milestones);
  return {
    class: 'timeout',
    reason: 'Timeout',
    message: `not Ready after ${Math.round(afterMs / 1000)} s${phase ? `; waiting for ${phase}` : ''}`,
    phase,
    hint: OUTCOME_HINT.timeout,
    exitCode: EXIT.timeout,
  };
}

const SUSPECTABLE = new Set<string>(Object.keys(OUTCOME_HINT).filter((c) => !['ready', 'in-progress', 'timeout', 'interrupted'].includes(c)));

/**
 * The class the CLI saw when it stopped waiting (the `done` observation), for
 * when the observations alone no longer show it (e.g. events expired).
 */
function doneHint(ctx: Context): FailureClass | undefined {
  const data = ctx.client.get('done')?.[0]?.data;
  if (typeof data?.outcome === 'string' && SUSPECTABLE.has(data.outcome)) return data.outcome as FailureClass;
  if (data?.reason === 'forbidden' && ctx.postSentAt === undefined) return 'forbidden';
  return undefined;
}

const FAILURE_CLASSES = new Set<OutcomeClass>(Object.keys(OUTCOME_EXIT).filter((c) => !['ready', 'in-progress', 'interrupted'].includes(c)) as OutcomeClass[]);

/** True when waiting longer cannot make the pod Ready (see the module comment). */
export function isTerminalFailure(trace: Trace): boolean {
  if (trace.run.final) return FAILURE_CLASSES.has(trace.outcome.class) && trace.outcome.class !== 'timeout';
  return trace.outcome.suspected?.terminal === true;
}

/**
 * The current failure once it has held for at least `graceMs` (client clock
 * `nowMs`), terminal or not; undefined otherwise. Pure: the caller passes the time.
 */
export function settledFailure(trace: Trace, nowMs: number, graceMs: number): SuspectedFailure | undefined {
  const s = trace.outcome.suspected;
  if (!s) return undefined;
  return nowMs - s.since >= graceMs ? s : undefined;
}
