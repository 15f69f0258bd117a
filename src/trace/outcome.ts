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
import { containerRefs, type Context } from './context.js';
import type { Cause, Milestone, Outcome, OutcomeClass, SuspectedFailure, Trace } from './types.js';
import { failure, withoutUndefined, diagnose, type FailureClass } from './diagnose.js';
import { OUTCOME_EXIT, OUTCOME_HINT } from './outcome-classes.js';
import { causeOf } from './cause.js';

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
  const outcome = withoutUndefined(outcomeOf(ctx, milestones));
  if (outcome.suspected) {
    const cause = specific(causeOf(ctx, outcome.suspected), outcome.suspected);
    if (cause) outcome.suspected = { ...outcome.suspected, cause, hint: cause.hint };
    if (outcome.class === 'in-progress' && cause) outcome.hint = cause.hint;
  }
  if (outcome.class === 'in-progress' || outcome.class === 'ready') return outcome;
  const cause = outcome.class === 'interrupted' ? undefined : specific(causeOf(ctx, outcome), outcome);
  return cause ? { ...outcome, cause, hint: cause.hint } : outcome;
}

/** A hint more specific than the class's (the POST's own answer made it) stays the cause's. */
function specific(cause: Cause | undefined, outcome: { class: OutcomeClass; hint?: string }): Cause | undefined {
  if (!cause || outcome.hint === undefined || outcome.hint === OUTCOME_HINT[outcome.class]) return cause;
  return { ...cause, hint: outcome.hint };
}

/**
 * A pod that runs to completion (restartPolicy Never or OnFailure: a Job's) and completed after it
 * was Ready, seen without a DELETE of podtrace's (watch, inspect): its end is the completion, not
 * the moment it was Ready on the way.
 */
function completedSinceReady(ctx: Context, milestones: readonly Milestone[]): boolean {
  if (ctx.deleteSentAt !== undefined) return false;
  const policy = ctx.latestPod?.spec?.restartPolicy;
  if (policy !== 'Never' && policy !== 'OnFailure') return false;
  const suspected = diagnose(ctx, milestones);
  return suspected?.terminal === true && (suspected.class === 'succeeded' || suspected.class === 'pod-failed');
}

function outcomeOf(ctx: Context, milestones: readonly Milestone[]): Outcome {
  // Ready counts only when it came before the DELETE: a pod that turns Ready
  // while podtrace tears it down after --timeout still timed out.
  const ready = milestones.find((m) => m.id === 'pod.ready' && (ctx.deleteSentAt === undefined || m.at < ctx.deleteSentAt));
  if (ready && !completedSinceReady(ctx, milestones)) {
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
