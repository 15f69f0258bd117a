/**
 * One `podtrace create` run, from the kubeconfig to the teardown: records
 * every step as an observation and returns what the trace is built from. The
 * command decides nothing here; it hands in a validated request and prints
 * the trace it gets back.
 */
import type { ClusterApi } from '../../kube/types.js';
import type { Observation, RecordingHeader } from '../../trace/observation.js';
import { LiveTrace } from '../live-trace.js';
import { MetricsReader } from '../metrics.js';
import { ObservationLog, type Clock } from '../observation-log.js';
import { PodWatchSet } from '../pod-watch-set.js';
import { recordNodesAtFailure } from '../schedulable-nodes.js';
import { recordPullSettings } from './pull-settings.js';
import { recordImageLookups } from './image-lookup.js';
import type { Progress, TextSink } from '../progress-sink.js';
import { recordingHeader, recordTarget } from '../run-header.js';
import type { StopController, StopSignal } from '../stop.js';
import { newTraceIds, runTracer, type RandomHex } from '../trace-context.js';
import { openRequiredWatches } from '../watch-access.js';
import { observe, readLogs } from './after-ready.js';
import { postPod, preflight } from './preflight.js';
import { deleteService, exposePod, removeReachPod, settleReach } from './service.js';
import { cleanupCommand, interrupted, outcomeAtStop, type CreateRequest, type RunState } from './state.js';
import { readRunSpans } from './read-spans.js';
import { bestEffortDelete, teardown } from './teardown.js';
import { awaitDelayedEvents, waitForOutcome } from './wait.js';

export interface SessionIO {
  clock: Clock;
  progress: Progress;
  stderr: TextSink;
  stop: StopController;
  toolVersion: string;
  startedAt: number;
  /** Trace and span ids (tests fix them). */
  randomHex?: RandomHex;
}

/** What one run leaves: what its trace is built from, and whether a signal ended it. */
export interface CollectedRun {
  header: RecordingHeader;
  observations: readonly Observation[];
  /** The create was refused before the POST (RBAC): there is no pod to classify. */
  forbidden: boolean;
  signal?: StopSignal;
}

export async function collectCreate(api: ClusterApi, request: CreateRequest, io: SessionIO): Promise<CollectedRun> {
  const namespace = api.target.namespace;
  const log = new ObservationLog(io.clock);
  const traceIds = newTraceIds(io.randomHex);
  const header = recordingHeader({
    toolVersion: io.toolVersion,
    startedAt: io.startedAt,
    namespace,
    podName: request.podName,
    trace: traceIds,
    options: {
      keep: request.keep,
      timeoutMs: request.timeoutMs,
      ...(request.image !== undefined ? { image: request.image } : {}),
      ...(request.expose !== undefined ? { expose: request.expose } : {}),
      ...(request.reach !== undefined ? { reachFrom: [...(request.reach.client ? (['client'] as const) : []), ...(request.reach.podImage !== undefined ? (['pod'] as const) : [])] } : {}),
      ...(request.observeMs > 0 ? { observeMs: request.observeMs } : {}),
      ...(request.logLines !== undefined ? { logLines: request.logLines } : {}),
      ...(request.node !== undefined ? { node: request.node } : {}),
    },
  });
  const state: RunState = {
    api,
    request,
    namespace,
    podName: request.podName,
    log,
    header,
    progress: io.progress,
    stderr: io.stderr,
    stop: io.stop,
    live: new LiveTrace(header, log),
    podMayExist: false,
    deleteAllowed: true,
    serviceMayExist: false,
  };
  api.traceRequests(runTracer(traceIds, log, io.randomHex));
  let forbidden: boolean;
  try {
    forbidden = await run(state);
  } finally {
    api.traceRequests(undefined);
  }
  const signal = io.stop.stoppedBy;
  return { header, observations: log.observations, forbidden, ...(signal !== undefined ? { signal } : {}) };
}

/** Runs the steps; true when the create was forbidden. Throws what ends the run (the cluster unreachable, RBAC on the watches). */
async function run(state: RunState): Promise<boolean> {
  const { log, progress, live, request, stop } = state;
  if (progress.enabled) live.onUpdate((trace) => progress.update(trace, live.nextStep(trace)));
  const stopListening = listenForStop(state);
  // A signal before this run began (while the client loaded): the run stops at its first chance.
  if (stop.stoppedBy !== undefined) log.client('interrupted', { signal: stop.stoppedBy });
  let doneReason = 'ready';
  try {
    recordTarget(log, state.api.target);
    progress.step('resolving credentials');
    const credentials = await state.api.resolveCredentials();
    log.client('credentials-resolved', { ...credentials });
    // the components' metrics before the POST, read beside the reviews and the watches; started once the
    // credentials are at hand, so an exec plugin runs once, not once per concurrent first request
    if (request.metrics) {
      state.metrics = new MetricsReader(state.api, log, (line) => progress.note(line));
      state.metrics.readBefore();
    }
    progress.step('checking the API server, identity and permissions');
    // the watches open while the reviews run (they create nothing): a run that may not create stops
    // them unread, one that may waits for them before its POST
    const watches = openWatches(state);
    const allowedToCreate = await preflight(state);
    if (!allowedToCreate) doneReason = 'forbidden';
    else if (interrupted(state)) doneReason = 'interrupted';
    else doneReason = await createAndFollow(state, watches);
    await state.metrics?.settle();
    // The class seen when waiting stopped: teardown changes the pod (a deleted pod turns Failed) after it.
    const outcome = outcomeAtStop(state);
    log.client('done', { reason: doneReason, ...(outcome !== undefined ? { outcome } : {}) });
    // The components' spans of the run, last: the teardown's too, and the exports are batched.
    if (request.spans && doneReason !== 'forbidden' && !interrupted(state)) await readRunSpans(state, request.spans);
  } catch (error) {
    live.close();
    progress.stop();
    state.watchers?.stop();
    if (state.podMayExist && !request.keep) await bestEffortDelete(state);
    state.reachStop?.abort();
    if (state.serviceMayExist && !request.keep) await deleteService(state).catch(() => {});
    await removeReachPod(state).catch(() => {});
    throw error;
  } finally {
    stopListening();
  }
  state.watchers?.stop();
  if (progress.enabled) live.refresh(); // the last steps, before the spinner goes
  live.close();
  progress.stop();
  if (request.keep && state.podMayExist) state.stderr.write(`pod kept (--keep); delete it with: ${cleanupCommand(state)}\n`);
  return doneReason === 'forbidden';
}

interface OpeningWatches {
  watchers: PodWatchSet;
  /** Settles when they are open; a refusal is RBAC's (exit 20). */
  opened: Promise<void>;
}

/** Starts the pod's watches (kept in the state, so that every way out stops them). */
function openWatches(state: RunState): OpeningWatches {
  const { request, namespace, podName } = state;
  const watchers = new PodWatchSet(state.api, state.log, { namespace, podName, ...(request.expose !== undefined ? { serviceName: podName } : {}) });
  state.watchers = watchers;
  const opened = openRequiredWatches(namespace, () => watchers.start());
  // awaited before the POST; a run that ends before it (forbidden, no such namespace) never reads it
  opened.catch(() => undefined);
  return { watchers, opened };
}

/** How long the POST waits for the metric reads before it, at most (a big cluster's /metrics may take longer: the POST goes). */
const BEFORE_READS_WAIT_MS = 500;

/** Watches, POST, the wait, what comes after Ready, the teardown; the reason the wait ended. */
async function createAndFollow(state: RunState, { watchers, opened }: OpeningWatches): Promise<string> {
  const { progress, request, namespace, podName } = state;
  progress.step('opening watches');
  await opened;
  // the components' counts before the POST, so that reading them does not slow the pod's start
  if (state.metrics) {
    progress.step("reading the components' metrics");
    await state.metrics.beforeDone(BEFORE_READS_WAIT_MS);
  }

  const created = interrupted(state) ? undefined : await postPod(state);
  if (created === undefined) return 'interrupted';
  if (!created) {
    if (state.podMayExist) progress.note(`the create request failed without an answer; the pod may exist. Check with: kubectl get pod -n ${namespace} ${podName}`);
    return 'post-error';
  }
  if (request.expose !== undefined) state.service = exposePod(state, request.expose);
  const result = await waitForOutcome(state);
  // the scheduler refused it: what every node offers, so the cause can name a taint and compare requests with allocatable
  if (outcomeAtStop(state) === 'unschedulable') await recordNodesAtFailure(state.api, state.log);
  // a pull that waited for others, or a registry QPS refusal: the kubelet's pull settings say why
  await recordPullSettings(state);
  // a pull "not found": the registry says whether the repository or only the tag is missing
  if (outcomeAtStop(state) === 'image-pull-not-found') await recordImageLookups(state);
  if (state.service !== undefined) await settleReach(state, result === 'ready');
  // after Ready (or the failure): what the components counted for the start, before the teardown adds to it
  state.metrics?.readAfter(watchers.nodeName);
  if (result === 'ready') await awaitDelayedEvents(state);
  if (result === 'ready' && request.observeMs > 0) await observe(state);
  if (request.logLines !== undefined && (result === 'ready' || result === 'failed') && !interrupted(state)) await readLogs(state, request.logLines);
  if (!request.keep) {
    if (!state.deleteAllowed) {
      progress.note(`warning: not allowed to delete pods in ${namespace}; the pod is left running. Clean up with: ${cleanupCommand(state)}`);
    } else {
      await deleteService(state);
      if (!watchers.podGone) await teardown(state);
    }
  }
  await removeReachPod(state);
  return result;
}

/** The first signal is recorded and stops the wait; a second one exits at once, saying what may be left. */
function listenForStop(state: RunState): () => void {
  const { stop, progress, log, request } = state;
  const offFirst = stop.onStop((signal) => {
    log.client('interrupted', { signal });
    progress.note(`${signal} received: ${state.podMayExist && !request.keep ? 'deleting the pod and ' : ''}saving the partial trace (again to quit now)`);
  });
  const offSecond = stop.onSecondStop((signal) => {
    progress.stop();
    // Deleted but not seen gone yet counts too: a long grace period keeps it around.
    const mayRemain =
      state.podMayExist || (state.watchers !== undefined && !state.watchers.podGone && log.observations.some((o) => o.type === 'post-response'));
    const cleanup = mayRemain && !request.keep ? ` The pod may still exist: ${cleanupCommand(state)}` : '';
    state.stderr.write(`podtrace: stopped by a second ${signal}.${cleanup}\n`);
  });
  return () => {
    offFirst();
    offSecond();
  };
}
