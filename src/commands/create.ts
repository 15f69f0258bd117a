import path from 'node:path';
import { ForbiddenError, NamespaceNotFoundError } from '../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { connectionFailure } from '../kube/network-errors.js';
import { KubeApiError, type KubeClient } from '../kube/types.js';
import { RECORDING_KIND, RECORDING_VERSION, type Observation, type RecordingHeader } from '../trace/observation.js';
import { describeViolations, evaluateGates, type GateViolation } from '../analysis/gates.js';
import { makeRunSet } from '../analysis/runset.js';
import type { Trace } from '../trace/types.js';
import { renderRunSetJson, renderRunSetSummary, renderRunSetYaml, runLine } from '../report/runset-summary.js';
import { eventsHeldBack } from '../trace/held-back.js';
import { isTerminalFailure, settledFailure } from '../trace/outcome.js';
import { reconstruct } from '../trace/reconstruct.js';
import { serializeRecording } from '../trace/recording.js';
import { ObservationLog } from '../watchers/observation-log.js';
import { PodWatchSet } from '../watchers/pod-watch-set.js';
import { writeFileAtomic } from './atomic-write.js';
import { kubeconfigLoaded, openKubeClient, type CommandContext, type StopSignal } from './context.js';
import { planCreate, type CreateFlags, type CreatePlan } from './create-plan.js';
import { defaultRunSetPath, defaultTracePath, displayPath, printTrace, saveTrace, useColor } from './output.js';
import { finalizeManifest, MANAGED_BY_LABEL, RUN_LABEL, type PodManifest } from './pod-manifest.js';
import { usageFromMetricsApi, usageFromStatsSummary } from './usage.js';
import { TOOL_VERSION } from './version.js';
import { LiveTrace } from './live-trace.js';
import { createProgress, type Progress } from './progress.js';

/** A failure the pod has been stuck in for this long ends the wait even if it might still clear up. */
export const SETTLED_FAILURE_GRACE_MS = 60_000;
/** How long to wait for the pod to disappear after DELETE, beyond its termination grace period. */
const TEARDOWN_EXTRA_MS = 30_000;
/**
 * How long a Ready run waits for events that an API server outage held back.
 * The kubelet and scheduler retry a failed event write (client-go's event
 * recorder: the first retry within 10 s, then every 10 s), so two retries land
 * within this window when the server was back in time.
 */
export const DELAYED_EVENTS_WAIT_MS = 25_000;
/** How long to keep tracing the deletion after the person interrupted the run. */
const INTERRUPTED_TEARDOWN_MS = 5_000;

export async function run(flags: CreateFlags, ctx: CommandContext): Promise<number> {
  const startedAt = ctx.clock.now();
  // Everything the person typed is checked before kubeconfig is read or a request is sent.
  const plan = planCreate(flags, { ...(ctx.random ? { index: ctx.random } : {}), now: startedAt });
  if (plan.runs > 1) return runRepeated(flags, plan, ctx, startedAt);
  const result = await runOnce(plan, ctx, startedAt);
  const { trace } = result;
  printTrace(trace, plan.output, ctx.stdout, ctx.env);
  const cwd = ctx.cwd ?? process.cwd();
  const savedTo = plan.outPath !== undefined ? path.resolve(cwd, plan.outPath) : defaultTracePath(cwd, plan.podName, result.header.startedAt);
  await saveTrace(trace, savedTo);
  ctx.stderr.write(`trace saved to ${displayPath(savedTo, cwd)}\n`);
  await saveRecording(result, plan, ctx);
  return withGates(result.exitCode, plan.gates.length > 0 ? evaluateGates([trace], plan.gates) : [], ctx);
}

/** What one run leaves: its trace, what it was built from, and its exit code. */
export interface RunResult {
  trace: Trace;
  header: RecordingHeader;
  observations: readonly Observation[];
  exitCode: ExitCode;
  /** Set when the run was stopped by a signal. */
  signal?: StopSignal;
}

/** One pod, from kubeconfig to teardown, on its own client. */
async function runOnce(plan: CreatePlan, ctx: CommandContext, startedAt: number): Promise<RunResult> {
  const kube = await openKubeClient({ ...plan.kube, ...(plan.namespace !== undefined ? { namespace: plan.namespace } : {}) }, ctx);
  try {
    return await new CreateRun(plan, ctx, kube, startedAt).execute();
  } finally {
    await kube.close().catch(() => {});
  }
}

async function saveRecording(result: RunResult, plan: CreatePlan, ctx: CommandContext): Promise<void> {
  if (plan.recordPath === undefined) return;
  const cwd = ctx.cwd ?? process.cwd();
  const recordTo = path.resolve(cwd, plan.recordPath);
  await writeFileAtomic(recordTo, serializeRecording(result.header, result.observations));
  ctx.stderr.write(`recording saved to ${displayPath(recordTo, cwd)}\n`);
}

/** A crossed --fail-on threshold is one stderr line; it sets the exit code only when the runs themselves succeeded. */
function withGates(exitCode: ExitCode, violations: readonly GateViolation[], ctx: CommandContext): number {
  if (violations.length === 0) return exitCode;
  ctx.stderr.write(`podtrace: ${describeViolations(violations)}\n`);
  return exitCode === EXIT.ok ? EXIT.thresholdExceeded : exitCode;
}

/**
 * `--runs N`: N full runs one after another (each its own pod, deleted before
 * the next starts), saved as one run set. Ctrl-C ends the run in progress as
 * usual and saves the runs that finished (the interrupted one only when it
 * was the first: a run set is never empty).
 */
async function runRepeated(flags: CreateFlags, first: CreatePlan, ctx: CommandContext, firstStartedAt: number): Promise<number> {
  const cwd = ctx.cwd ?? process.cwd();
  const traces: Trace[] = [];
  let exitCode: ExitCode = EXIT.ok;
  let stopped: StopSignal | undefined;
  let inRun = false;
  // Between runs no CreateRun listens for signals: note the stop here, and end at once on a second one.
  const signals = ctx.signals ?? process;
  const exit = ctx.exit ?? ((code: number) => process.exit(code));
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const handler = (): void => {
      if (inRun) return; // the run in progress handles it
      if (stopped !== undefined) exit(signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
      stopped = signal;
    };
    signals.on(signal, handler);
    return [signal, handler] as const;
  });
  let saved = false;
  const save = async (): Promise<void> => {
    if (saved || traces.length === 0) return;
    saved = true;
    const set = makeRunSet(traces, runSetLabel(traces[0]!), TOOL_VERSION);
    const savedTo = first.outPath !== undefined ? path.resolve(cwd, first.outPath) : defaultRunSetPath(cwd, first.podName, firstStartedAt);
    await writeFileAtomic(savedTo, renderRunSetJson(set));
    ctx.stderr.write(`run set of ${traces.length} run${traces.length === 1 ? '' : 's'} saved to ${displayPath(savedTo, cwd)}\n`);
  };
  try {
    for (let i = 0; i < first.runs && stopped === undefined; i++) {
      if (i > 0 && first.intervalMs > 0) await pause(first.intervalMs, () => stopped !== undefined);
      if (stopped !== undefined) break;
      const startedAt = i === 0 ? firstStartedAt : ctx.clock.now();
      let plan = first;
      let result: RunResult;
      inRun = true;
      try {
        // A new pod name and run id per run (the manifest file is read again: it was valid a moment ago).
        if (i > 0) plan = planCreate(flags, { ...(ctx.random ? { index: ctx.random } : {}), now: startedAt }, i);
        result = await runOnce(plan, ctx, startedAt);
      } catch (error) {
        // A cluster error ends the series; the runs already made are kept.
        await save().catch(() => {});
        throw error;
      } finally {
        inRun = false;
      }
      if (!plan.quiet) ctx.stderr.write(`${runLine(result.trace, i, first.runs)}\n`);
      await saveRecording(result, plan, ctx);
      if (result.signal !== undefined) {
        stopped = result.signal;
        if (traces.length === 0) traces.push(result.trace);
        break;
      }
      traces.push(result.trace);
      if (exitCode === EXIT.ok && result.exitCode !== EXIT.ok) exitCode = result.exitCode;
    }
  } finally {
    for (const [signal, handler] of handlers) signals.off(signal, handler);
  }
  const set = makeRunSet(traces, runSetLabel(traces[0]!), TOOL_VERSION);
  const text =
    first.output === 'json'
      ? renderRunSetJson(set)
      : first.output === 'yaml'
        ? renderRunSetYaml(set)
        : renderRunSetSummary(set, { color: useColor(ctx.stdout, ctx.env), width: ctx.stdout.columns ?? 100 });
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  await save();
  if (stopped !== undefined) return stopped === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
  return withGates(exitCode, first.gates.length > 0 ? evaluateGates(set, first.gates) : [], ctx);
}

/** Waits ms, in short steps, so a signal between runs ends the pause at once. */
async function pause(ms: number, interrupted: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !interrupted()) await new Promise((resolve) => setTimeout(resolve, Math.min(100, end - Date.now())));
}

/** "nginx on kind-podtrace": what the runs share, for headings. */
export function runSetLabel(trace: Trace): string {
  const what = trace.run.options.image ?? trace.pod.name;
  const where = trace.cluster?.context ?? trace.cluster?.server;
  return where ? `${what} on ${where}` : what;
}

type WaitResult = 'ready' | 'failed' | 'timeout' | 'interrupted' | 'gone';

class CreateRun {
  readonly log: ObservationLog;
  readonly header: RecordingHeader;
  readonly manifest: PodManifest;
  readonly namespace: string;
  readonly podName: string;
  #progress: Progress | undefined;
  #live: LiveTrace | undefined;
  #outcomeAtStop: string | undefined;
  #signal: StopSignal | undefined;
  readonly #interrupt = new AbortController();
  #podMayExist = false;
  #deleteAllowed = true;
  #watchers: PodWatchSet | undefined;
  /** --expose: the Service request, once sent (settles when answered). */
  #service: Promise<void> | undefined;
  #serviceMayExist = false;

  constructor(
    readonly plan: CreatePlan,
    readonly ctx: CommandContext,
    readonly kube: KubeClient,
    startedAt: number,
  ) {
    this.namespace = kube.target.namespace;
    this.podName = plan.podName;
    this.manifest = finalizeManifest(plan.manifest, { name: this.podName, namespace: this.namespace, runId: plan.runId });
    this.log = new ObservationLog(ctx.clock);
    this.header = {
      kind: RECORDING_KIND,
      version: RECORDING_VERSION,
      toolVersion: TOOL_VERSION,
      startedAt,
      namespace: this.namespace,
      podName: this.podName,
      options: {
        keep: plan.keep,
        timeoutMs: plan.timeoutMs,
        ...(plan.image !== undefined ? { image: plan.image } : {}),
        ...(plan.expose !== undefined ? { expose: plan.expose } : {}),
        ...(plan.observeMs > 0 ? { observeMs: plan.observeMs } : {}),
        ...(plan.logLines !== undefined ? { logLines: plan.logLines } : {}),
      },
    };
  }

  get progress(): Progress {
    if (!this.#progress) throw new Error('progress used before start');
    return this.#progress;
  }

  async execute(): Promise<RunResult> {
    const { ctx, plan } = this;
    const interactive = ctx.stderr.isTTY === true && ctx.env['TERM'] !== 'dumb' && plan.output === 'table' && !plan.quiet;
    this.#progress = await createProgress(ctx.stderr, interactive);
    const live = new LiveTrace(this.header, this.log);
    this.#live = live;
    if (this.progress.enabled) live.onUpdate((trace) => this.progress.update(trace, live.nextStep(trace)));
    const removeSignalHandlers = this.#installSignalHandlers();
    let watchers: PodWatchSet | undefined;
    let doneReason = 'ready';
    let outcomeAtStop: string | undefined;
    try {
      this.#recordKubeconfig();
      this.progress.step('resolving credentials');
      const credentials = await this.kube.resolveCredentials();
      this.log.client('credentials-resolved', { ...credentials });

      this.progress.step('checking the API server, identity and permissions');
      const allowedToCreate = await this.#preflight();

      if (!allowedToCreate) {
        doneReason = 'forbidden';
      } else if (this.#interrupted()) {
        doneReason = 'interrupted';
      } else {
        this.progress.step('opening watches');
        watchers = new PodWatchSet(this.kube, this.log, {
          namespace: this.namespace,
          podName: this.podName,
          ...(plan.expose !== undefined ? { serviceName: this.podName } : {}),
        });
        this.#watchers = watchers;
        await this.#guard(() => watchers!.start());

        const created = this.#interrupted() ? undefined : await this.#post();
        if (created === undefined) {
          doneReason = 'interrupted';
        } else if (!created) {
          doneReason = 'post-error';
          if (this.#podMayExist) {
            this.progress.note(`the create request failed without an answer; the pod may exist. Check with: kubectl get pod -n ${this.namespace} ${this.podName}`);
          }
        } else {
          if (plan.expose !== undefined) this.#service = this.#expose(plan.expose);
          const result = await this.#waitForOutcome(watchers);
          doneReason = result;
          outcomeAtStop = this.#outcomeAtStop;
          if (result === 'ready') await this.#awaitDelayedEvents(watchers);
          if (result === 'ready' && plan.observeMs > 0) await this.#observe(watchers);
          if (plan.logLines !== undefined && (result === 'ready' || result === 'failed') && !this.#interrupted()) await this.#readLogs(plan.logLines);
          if (!plan.keep) {
            if (!this.#deleteAllowed) {
              this.progress.note(
                `warning: not allowed to delete pods in ${this.namespace}; the pod is left running. Clean up with: ${this.#cleanupCommand()}`,
              );
            } else {
              await this.#deleteService();
              if (!watchers.podGone) await this.#teardown(watchers);
            }
          }
        }
      }
      // The class seen when waiting stopped: teardown changes the pod (a deleted pod turns Failed) after it.
      this.log.client('done', { reason: doneReason, ...(outcomeAtStop !== undefined ? { outcome: outcomeAtStop } : {}) });
    } catch (error) {
      live.close();
      this.progress.stop();
      watchers?.stop();
      if (this.#podMayExist && !plan.keep) await this.#bestEffortDelete();
      if (this.#serviceMayExist && !plan.keep) await this.#deleteService().catch(() => {});
      throw error;
    } finally {
      removeSignalHandlers();
    }
    watchers?.stop();
    if (this.progress.enabled) live.refresh(); // the last steps, before the spinner goes
    live.close();
    this.progress.stop();
    if (plan.keep && this.#podMayExist) this.ctx.stderr.write(`pod kept (--keep); delete it with: ${this.#cleanupCommand()}\n`);
    return this.#finish(allowedToCreateExit(doneReason));
  }

  #recordKubeconfig(): void {
    this.log.client('kubeconfig-loaded', kubeconfigLoaded(this.kube.target));
  }

  /** Version, identity, permissions and the namespace, in parallel; each recorded as it completes. */
  async #preflight(): Promise<boolean> {
    const { kube, log, namespace } = this;
    let createAllowed = true;
    const review = (verb: 'create' | 'delete') =>
      kube.accessReview({ verb, resource: 'pods', namespace }).then(
        (result) => {
          log.client('access-review', { verb, resource: 'pods', namespace, ...result });
          if (verb === 'create' && !result.allowed) createAllowed = false;
          if (verb === 'delete' && !result.allowed) this.#deleteAllowed = false;
        },
        (error: unknown) => {
          // Unknown, not denied: the POST will tell.
          log.client('access-review', { verb, resource: 'pods', namespace, error: describe(error) });
          throw error;
        },
      );
    const results = await Promise.allSettled([
      kube.serverVersion().then(
        (version) => log.client('server-version', { ...version }),
        (error: unknown) => {
          log.client('server-version', { error: describe(error) });
          throw error;
        },
      ),
      kube.selfSubjectReview().then(
        (identity) => log.client('self-subject-review', { ...identity }),
        (error: unknown) => {
          log.client('self-subject-review', { error: describe(error) });
          throw error;
        },
      ),
      review('delete'),
      review('create'),
      kube.namespaceStatus(namespace),
    ]);
    // Connection and credential problems end the run; anything else only weakens the trace.
    for (const result of results) {
      if (result.status === 'rejected') {
        const fatal = connectionFailure(result.reason, kube.target.server);
        if (fatal) throw fatal;
      }
    }
    const nsResult = results[4];
    if (nsResult.status === 'fulfilled' && nsResult.value === 'not-found') {
      const from =
        kube.target.namespaceSource === 'flag'
          ? '-n'
          : kube.target.namespaceSource === 'context'
            ? `context "${kube.target.context}"`
            : 'the default';
      throw new NamespaceNotFoundError(
        `namespace "${namespace}" (from ${from}) does not exist on ${kube.target.server}: create it (kubectl create namespace ${namespace}) or pass -n`,
      );
    }
    if (!createAllowed) {
      this.progress.note(`not allowed to create pods in namespace ${namespace}: nothing was created`);
    } else if (!this.#deleteAllowed && !this.plan.keep) {
      this.progress.note(`warning: not allowed to delete pods in ${namespace}: podtrace cannot clean up after itself`);
    }
    return createAllowed;
  }

  async #post(): Promise<boolean> {
    const { log, kube, namespace } = this;
    this.progress.step('creating the pod');
    log.client('submitted', { pod: this.manifest });
    this.#podMayExist = true;
    log.client('post-sent', {});
    try {
      const response = await kube.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, {
        body: this.manifest,
      });
      log.client('post-response', { status: response.status, pod: response.body });
      return true;
    } catch (error) {
      if (error instanceof KubeApiError) {
        log.client('post-error', {
          status: error.status,
          reason: error.reason,
          message: error.message,
          ...(error.details !== undefined ? { details: error.details } : {}),
        });
        // 409 means a pod of that name exists and is not ours: never delete it.
        this.#podMayExist = false;
        return false;
      }
      const fatal = connectionFailure(error, kube.target.server);
      log.client('post-error', { status: 0, reason: 'Unreachable', message: describe(fatal ?? error) });
      return false;
    }
  }

  #waitForOutcome(watchers: PodWatchSet): Promise<WaitResult> {
    const { log, plan, ctx } = this;
    const live = this.#live!;
    const postSentAt = this.#postSentAt();
    return new Promise<WaitResult>((resolve) => {
      let finished = false;
      const finish = (result: WaitResult): void => {
        if (finished) return;
        finished = true;
        stopListening();
        clearInterval(ticker);
        clearTimeout(deadline);
        this.#interrupt.signal.removeEventListener('abort', onInterrupt);
        resolve(result);
      };
      const stopListening = live.onUpdate((trace) => {
        const failure = trace.outcome.suspected?.class;
        this.#outcomeAtStop = failure ?? trace.outcome.class;
        if (trace.outcome.class === 'ready' && this.#exposed(trace)) return finish('ready');
        if (isTerminalFailure(trace)) return finish('failed');
        if (settledFailure(trace, ctx.clock.now(), SETTLED_FAILURE_GRACE_MS)) return finish('failed');
        if (watchers.podGone) return finish('gone');
      });
      // Time-based rules (a failure that has settled) need evaluation without new observations too.
      const ticker = setInterval(() => live.schedule(), 1000);
      const remaining = Math.max(0, postSentAt + plan.timeoutMs - ctx.clock.now());
      const deadline = setTimeout(() => {
        if (finished) return;
        log.client('timeout', { afterMs: plan.timeoutMs });
        finish('timeout');
      }, remaining);
      const onInterrupt = (): void => finish('interrupted');
      if (this.#interrupt.signal.aborted) return finish('interrupted');
      this.#interrupt.signal.addEventListener('abort', onInterrupt, { once: true });
      live.schedule();
    });
  }

  /**
   * --expose: a Service named after the pod, selecting it by its run label, and
   * whether the cluster runs a DNS Service that would give it a name. Runs
   * while the pod starts; its answers are observations like any other.
   */
  async #expose(port: number): Promise<void> {
    const { log, kube, namespace, podName } = this;
    const ns = encodeURIComponent(namespace);
    const labels = this.manifest.metadata.labels as Record<string, string>;
    const body = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: podName, namespace, labels: { [MANAGED_BY_LABEL]: 'podtrace', [RUN_LABEL]: labels[RUN_LABEL]! } },
      spec: { selector: { [RUN_LABEL]: labels[RUN_LABEL]! }, ports: [{ name: 'traced', port, targetPort: port, protocol: 'TCP' }] },
    };
    const dns = kube.request('GET', '/api/v1/namespaces/kube-system/services/kube-dns').then(
      () => log.client('cluster-dns', { service: 'kube-system/kube-dns', found: true }),
      (error: unknown) =>
        log.client(
          'cluster-dns',
          error instanceof KubeApiError && error.status === 404 ? { service: 'kube-system/kube-dns', found: false } : { error: describe(error) },
        ),
    );
    this.#serviceMayExist = true;
    try {
      const response = await kube.request('POST', `/api/v1/namespaces/${ns}/services`, { body });
      log.client('service-created', { status: response.status, service: response.body });
    } catch (error) {
      log.client('service-error', {
        status: error instanceof KubeApiError ? error.status : 0,
        reason: error instanceof KubeApiError ? error.reason : 'Unreachable',
        message: describe(connectionFailure(error, kube.target.server) ?? error),
      });
      // 409: a Service of that name exists and is not ours: never delete it.
      if (error instanceof KubeApiError) this.#serviceMayExist = false;
      this.progress.note(`warning: could not create the Service (${describe(error)}): the trace goes on without it`);
    } finally {
      await dns;
    }
  }

  /**
   * An event watch had a gap and some milestones are timed from status because
   * their events are missing: the components may still be retrying those
   * writes. Waits (bounded by DELAYED_EVENTS_WAIT_MS and --timeout) until the
   * events arrive, so the trace keeps the components' own times.
   */
  async #awaitDelayedEvents(watchers: PodWatchSet): Promise<void> {
    const { log, plan, ctx } = this;
    const live = this.#live!;
    const missing = eventsHeldBack(live.refresh());
    const maxMs = Math.min(DELAYED_EVENTS_WAIT_MS, this.#postSentAt() + plan.timeoutMs - ctx.clock.now());
    if (missing.length === 0 || maxMs <= 0 || this.#interrupted()) return;
    this.progress.step(`waiting up to ${Math.ceil(maxMs / 1000)}s for ${missing.length} event(s) held back by the API server outage`);
    log.client('delayed-events-wait', { milestones: missing, maxMs });
    let still = missing;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stopListening();
        clearTimeout(deadline);
        this.#interrupt.signal.removeEventListener('abort', done);
        resolve();
      };
      const stopListening = live.onUpdate((trace) => {
        still = eventsHeldBack(trace);
        if (still.length === 0 || watchers.podGone) done();
      });
      const deadline = setTimeout(done, maxMs);
      this.#interrupt.signal.addEventListener('abort', done, { once: true });
    });
    log.client('delayed-events-ended', { arrived: missing.filter((id) => !still.includes(id)), missing: still });
  }

  /**
   * --observe: the window after Ready. The watches keep recording (restarts,
   * probe failures); resource usage is sampled from the kubelet's stats summary
   * through the API server's node proxy, else from metrics.k8s.io.
   */
  async #observe(watchers: PodWatchSet): Promise<void> {
    const { log, ctx, plan } = this;
    this.progress.step(`observing for ${Math.round(plan.observeMs / 1000)}s after Ready`);
    log.client('observe-started', { durationMs: plan.observeMs });
    const end = ctx.clock.now() + plan.observeMs;
    const every = Math.min(5000, Math.max(1000, plan.observeMs / 10));
    let source: 'kubelet-stats' | 'metrics-api' | undefined = 'kubelet-stats';
    while (!this.#interrupted() && !watchers.podGone && ctx.clock.now() < end) {
      if (source !== undefined) source = await this.#sampleUsage(source, watchers.nodeName);
      const wait = Math.min(every, end - ctx.clock.now());
      if (wait > 0) await pause(wait, () => this.#interrupted() || watchers.podGone);
    }
    log.client('observe-ended', {});
  }

  /** One usage sample of the pod's containers; the source to use next time (undefined: none works). */
  async #sampleUsage(source: 'kubelet-stats' | 'metrics-api', nodeName: string | undefined): Promise<'kubelet-stats' | 'metrics-api' | undefined> {
    const { log, kube, namespace, podName } = this;
    if (source === 'kubelet-stats' && nodeName !== undefined) {
      try {
        const { body } = await kube.request('GET', `/api/v1/nodes/${encodeURIComponent(nodeName)}/proxy/stats/summary`);
        log.client('usage-sample', { source: 'kubelet-stats', containers: usageFromStatsSummary(body, namespace, podName) });
        return 'kubelet-stats';
      } catch (error) {
        this.#throwIfFatal(error);
        // No node proxy (RBAC nodes/proxy, a managed control plane): try the metrics API.
        if (!(error instanceof KubeApiError)) throw error;
      }
    }
    try {
      const { body } = await kube.request('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}`);
      log.client('usage-sample', { source: 'metrics-api', containers: usageFromMetricsApi(body) });
      return 'metrics-api';
    } catch (error) {
      this.#throwIfFatal(error);
      log.client('usage-sample', {
        error: `no resource usage: neither the node's stats summary (nodes/proxy) nor metrics.k8s.io answered (${describe(error)})`,
      });
      return undefined;
    }
  }

  /** --logs N: the first N lines of each container's log (current run), read before the pod is deleted. */
  async #readLogs(lines: number): Promise<void> {
    const { log, kube, namespace, podName } = this;
    this.progress.step('reading the logs');
    const spec = this.manifest.spec as { initContainers?: Array<{ name: string }>; containers: Array<{ name: string }> };
    const names = [...(spec.initContainers ?? []), ...spec.containers].map((c) => c.name);
    for (const container of names) {
      try {
        const text = await kube.requestText(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}/log`, {
          container,
          limitBytes: 1 << 20,
        });
        const all = text.split('\n');
        if (all.at(-1) === '') all.pop();
        log.client('logs', { container, lines: all.slice(0, lines), truncated: all.length > lines });
      } catch (error) {
        this.#throwIfFatal(error);
        log.client('logs', { container, error: describe(error) });
      }
    }
  }

  /** Without --expose, or when the Service could not be made, Ready is enough; else its endpoint must be ready too. */
  #exposed(trace: Trace): boolean {
    if (this.plan.expose === undefined) return true;
    return trace.service?.error !== undefined || trace.milestones.some((m) => m.id === 'service.endpoint-ready');
  }

  async #deleteService(): Promise<void> {
    if (this.#service === undefined) return;
    await this.#service;
    if (!this.#serviceMayExist) return;
    const { log, kube, namespace, podName } = this;
    try {
      const response = await kube.request('DELETE', `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(podName)}`);
      log.client('service-deleted', { status: response.status });
      this.#serviceMayExist = false;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) {
        this.#serviceMayExist = false;
        return;
      }
      log.client('service-deleted', { error: describe(error) });
      this.progress.note(`warning: could not delete the Service (${describe(error)}). Clean up with: kubectl delete service -n ${namespace} ${podName}`);
    }
  }

  async #teardown(watchers: PodWatchSet): Promise<void> {
    const { log, kube, namespace, podName } = this;
    this.progress.step('deleting the pod');
    log.client('delete-sent', {});
    try {
      const response = await kube.request('DELETE', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}`);
      log.client('delete-response', { status: response.status });
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) {
        log.client('delete-error', { status: 404, message: error.message });
        watchers.markGone('delete-404');
        return;
      }
      log.client('delete-error', {
        status: error instanceof KubeApiError ? error.status : 0,
        message: describe(connectionFailure(error, kube.target.server) ?? error),
      });
      this.progress.note(`warning: could not delete the pod (${describe(error)}). Clean up with: ${this.#cleanupCommand()}`);
      return;
    }
    this.#podMayExist = false;
    const grace = this.manifest.spec['terminationGracePeriodSeconds'];
    // After Ctrl-C the person wants out: give the deletion a few seconds to be traced, not the whole grace period.
    const limitMs = this.#interrupted()
      ? INTERRUPTED_TEARDOWN_MS
      : (typeof grace === 'number' ? grace : 30) * 1000 + TEARDOWN_EXTRA_MS;
    this.progress.step('waiting for the pod to be gone');
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), limitMs);
    let shortened: NodeJS.Timeout | undefined;
    const shorten = (): void => {
      shortened = setTimeout(() => timeout.abort(), INTERRUPTED_TEARDOWN_MS);
    };
    this.#interrupt.signal.addEventListener('abort', shorten, { once: true });
    await watchers.waitUntilGone(timeout.signal);
    this.#interrupt.signal.removeEventListener('abort', shorten);
    clearTimeout(timer);
    clearTimeout(shortened);
    if (!watchers.podGone) {
      await this.#confirmGone(watchers);
      if (!watchers.podGone) {
        this.progress.note(`note: the pod was still terminating when podtrace stopped watching; it will go away on its own`);
      }
    }
  }

  async #confirmGone(watchers: PodWatchSet): Promise<void> {
    try {
      await this.kube.request('GET', `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods/${encodeURIComponent(this.podName)}`);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) watchers.markGone('get-404');
    }
  }

  async #bestEffortDelete(): Promise<void> {
    try {
      await this.kube.request('DELETE', `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods/${encodeURIComponent(this.podName)}`);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) {
        this.ctx.stderr.write(`podtrace: could not delete the pod; clean up with: ${this.#cleanupCommand()}\n`);
      }
    }
  }

  #finish(forcedExit: ExitCode | undefined): RunResult {
    const trace = reconstruct(this.header, this.log.observations);
    const signal = this.#signal;
    const exitCode: ExitCode = signal
      ? signal === 'SIGINT'
        ? EXIT.interrupted
        : EXIT.terminated
      : (forcedExit ?? trace.outcome.exitCode ?? EXIT.internal);
    return { trace, header: this.header, observations: this.log.observations, exitCode, ...(signal ? { signal } : {}) };
  }

  /** When the POST went out (now, before it did): --timeout counts from it. */
  #postSentAt(): number {
    return this.log.observations.find((o) => o.source === 'client' && o.type === 'post-sent')?.observedAt ?? this.ctx.clock.now();
  }

  #interrupted(): boolean {
    return this.#interrupt.signal.aborted;
  }

  /** A cluster that cannot be reached or refuses the credentials ends the run; other errors are the caller's. */
  #throwIfFatal(error: unknown): void {
    const fatal = connectionFailure(error, this.kube.target.server);
    if (fatal) throw fatal;
  }

  /** Runs a step whose failure to reach the cluster must end the run with the right code. */
  async #guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      const fatal = connectionFailure(error, this.kube.target.server);
      if (fatal) throw fatal;
      if (error instanceof KubeApiError && error.status === 403) {
        throw new ForbiddenError(`not allowed to watch pods or events in ${this.namespace} (${error.message}): podtrace needs list/watch on pods and events`);
      }
      throw error;
    }
  }

  #cleanupCommand(): string {
    const service = this.#serviceMayExist ? `; kubectl delete service -n ${this.namespace} ${this.podName}` : '';
    return `kubectl delete pod -n ${this.namespace} ${this.podName}${service}`;
  }

  #installSignalHandlers(): () => void {
    const signals = this.ctx.signals ?? process;
    const exit = this.ctx.exit ?? ((code: number) => process.exit(code));
    const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
      const handler = (): void => {
        if (this.#signal === undefined) {
          this.#signal = signal;
          this.log.client('interrupted', { signal });
          this.progress.note(
            `${signal} received: ${this.#podMayExist && !this.plan.keep ? 'deleting the pod and ' : ''}saving the partial trace (again to quit now)`,
          );
          this.#interrupt.abort();
          return;
        }
        this.progress.stop();
        // Deleted but not seen gone yet counts too: a long grace period keeps it around.
        const mayRemain = this.#podMayExist || (this.#watchers !== undefined && !this.#watchers.podGone && this.log.observations.some((o) => o.type === 'post-response'));
        const cleanup = mayRemain && !this.plan.keep ? ` The pod may still exist: ${this.#cleanupCommand()}` : '';
        this.ctx.stderr.write(`podtrace: stopped by a second ${signal}.${cleanup}\n`);
        exit(signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
      };
      signals.on(signal, handler);
      return [signal, handler] as const;
    });
    return () => {
      for (const [signal, handler] of handlers) signals.off(signal, handler);
    };
  }
}

function allowedToCreateExit(doneReason: string): ExitCode | undefined {
  // The trace core classifies from observations; a create denied before the POST has no pod to classify.
  return doneReason === 'forbidden' ? EXIT.forbidden : undefined;
}


function describe(error: unknown): string {
  if (error instanceof KubeApiError) return `${error.status} ${error.reason}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
