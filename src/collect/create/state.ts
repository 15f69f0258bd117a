/**
 * One `podtrace create` run as its parts share it: what it was asked to do,
 * what it has done so far (a pod or Service that may exist, what it may
 * delete), and where it records and reports. session.ts drives the run; the
 * other files of this folder are its steps.
 */
import type { ClusterApi } from '../../kube/types.js';
import type { RecordingHeader } from '../../trace/observation.js';
import type { LiveTrace } from '../live-trace.js';
import type { MetricsReader } from '../metrics.js';
import type { ObservationLog } from '../observation-log.js';
import type { PodWatchSet } from '../pod-watch-set.js';
import type { Progress, TextSink } from '../progress-sink.js';
import type { StopController } from '../stop.js';
import type { Trace } from '../../trace/types.js';
import type { ReachPod } from './reach-pod.js';

export type PodManifest = Record<string, unknown> & {
  metadata: Record<string, unknown> & { labels?: Record<string, string> };
  spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> };
};

/** What the run was asked to do, validated by the command. */
export interface CreateRequest {
  /** The manifest as it will be sent: name, namespace and podtrace's labels set. */
  manifest: PodManifest;
  podName: string;
  image?: string;
  keep: boolean;
  timeoutMs: number;
  /** `--expose PORT`. */
  expose?: number;
  /** With --expose: try the Service from podtrace's machine (client), and from a probe pod of this image. */
  reach?: { client: boolean; podImage?: string };
  /** `--observe`, ms (0: none). */
  observeMs: number;
  /** `--logs N`. */
  logLines?: number;
  /** The label that selects this run's pod (the --expose Service's selector). */
  runLabel: { key: string; value: string };
  /** Labels on everything podtrace creates. */
  managedBy: { key: string; value: string };
  /** --spans: the Jaeger query API to read the components' spans of the run from, and how long to wait for them. */
  spans?: { backend: string; waitMs: number };
  /** Read the components' /metrics before the POST, after its answer and after Ready. */
  metrics: boolean;
  /** `--node NAME`: the manifest is pinned to it; the preflight checks that it exists. */
  node?: string;
  /** PODTRACE_REGISTRY_MIRRORS: where the nodes pull a registry's images from (asked after a "not found"). */
  registryMirrors?: Record<string, string>;
}

export interface RunState {
  readonly api: ClusterApi;
  readonly request: CreateRequest;
  readonly namespace: string;
  readonly podName: string;
  readonly log: ObservationLog;
  readonly header: RecordingHeader;
  readonly progress: Progress;
  readonly stderr: TextSink;
  readonly stop: StopController;
  readonly live: LiveTrace;
  watchers?: PodWatchSet;
  /** A POST went out that may have created the pod, and no DELETE has removed it yet. */
  podMayExist: boolean;
  deleteAllowed: boolean;
  /** --expose: the Service request, once sent (settles when answered). */
  service?: Promise<void>;
  serviceMayExist: boolean;
  /** --expose: the tries to reach the Service from the client (route, DNS), and what ends them. */
  reach?: Promise<void>;
  reachStop?: AbortController;
  /** --expose: the in-cluster probe pod, once its create was sent. */
  reachPod?: ReachPod;
  /** The trace as the wait last saw it, when it stopped (teardown changes the pod after it). */
  traceAtStop?: Trace;
  /** The components' /metrics, when read (unless --no-metrics). */
  metrics?: MetricsReader;
}

/** The outcome class the wait stopped on: the failure the pod was in, else the outcome. */
export function outcomeAtStop(state: RunState): string | undefined {
  const outcome = state.traceAtStop?.outcome;
  return outcome === undefined ? undefined : (outcome.suspected?.class ?? outcome.class);
}

/** `kubectl delete ...` for what may be left. */
export function cleanupCommand(state: RunState): string {
  const service = state.serviceMayExist ? `; kubectl delete service -n ${state.namespace} ${state.podName}` : '';
  const probe = state.reachPod?.mayExist ? ` ${state.reachPod.name}` : '';
  return `kubectl delete pod -n ${state.namespace} ${state.podName}${probe}${service}`;
}

/** When the POST went out (now, before it did): --timeout counts from it. */
export function postSentAt(state: RunState): number {
  return state.log.observations.find((o) => o.source === 'client' && o.type === 'post-sent')?.observedAt ?? state.log.clock.now();
}

export function interrupted(state: RunState): boolean {
  return state.stop.signal.aborted;
}
