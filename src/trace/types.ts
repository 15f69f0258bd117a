/**
 * The Trace: what reconstruct() computes and what trace files hold
 * (schema/trace.schema.json describes the same shape; keep them in step).
 * Every time is on the client's timeline (ms since epoch, client clock);
 * offsets are from t0 = the moment podtrace sent the POST.
 */
import type { ExitCode } from '../exit-codes.js';
import type { TimeSource } from './event-time.js';
import type { MetricsSection, NodeInfo, Observed, ServiceInfo, SpanSection } from './section-types.js';
import type { Cause, Explanation } from './cause-types.js';
export type { Cause, CauseCode, ExplainPart, Explanation } from './cause-types.js';

export const TRACE_SCHEMA_VERSION = 1;
export const TOOL_NAME = 'podtrace';

/** kube-proxy and dns (the cluster's DNS Service): --expose's routing and name steps. */
export type Component = 'client' | 'apiserver' | 'scheduler' | 'controller-manager' | 'kubelet' | 'runtime' | 'node' | 'kube-proxy' | 'dns';

export interface Milestone {
  /** e.g. 'scheduler.scheduled', 'container.nginx.pulled'. */
  id: string;
  label: string;
  component: Component;
  /** Client timeline, ms since epoch. */
  at: number;
  /** at - t0. */
  offsetMs: number;
  source: TimeSource;
  precisionMs: number;
  container?: string;
  detail?: string;
  /** What the time was read from: an event name, a field path, an observation. */
  evidence?: string;
  /** Set when the preferred source was missing or unusable and a lesser one was used. */
  fallback?: string;
  /**
   * Source 'bounded-by': the id of the milestone that must come after this one
   * and was timed more precisely (a sandbox is ready before the kubelet pulls
   * the first image). `at` is that milestone's time; precisionMs is the width
   * of what is left of this milestone's interval, from its lower bound to `at`.
   */
  boundedBy?: string;
}

export interface Phase {
  /** 'from->to' for steps between milestones, or a named measurement id. */
  id: string;
  label: string;
  /** 'step': between consecutive milestones (in time order); 'reported': a duration a component measured itself. */
  kind: 'step' | 'reported';
  from?: string;
  to?: string;
  component?: Component;
  container?: string;
  startOffsetMs: number;
  durationMs: number;
  /**
   * The raw difference was negative and durationMs was clamped to 0 (see anomalies).
   * Traces from podtrace 0.1.0 only: steps now follow time order, and causal
   * inversions are reported as anomalies on the pair of milestones.
   */
  clamped?: boolean;
}

export type AnomalyKind =
  | 'negative-duration'
  | 'clock-bounds-inconsistent'
  | 'event-time-fallback'
  | 'missing-event'
  | 'late-observation'
  | 'kubelet-restarted';

export interface Anomaly {
  kind: AnomalyKind;
  /** 'from->to': for negative-duration, the two milestones in causal order (the second was timed before the first). */
  phase?: string;
  milestone?: string;
  rawMs?: number;
  explanation: string;
}

export interface ClockOffset {
  /** server - client, ms: subtract from a server time to put it on the client timeline. */
  estimateMs: number;
  /** Lower bound from server times observed by the client; null when there was none. */
  lowerMs: number | null;
  /** Upper bound from server times known to come after the POST; null when there was none. */
  upperMs: number | null;
  samples: number;
  method: 'zero-within-bounds' | 'nearest-bound' | 'inconsistent-bounds' | 'no-bounds';
  /** How late the watches delivered, measured in this run: the precision of every watch sighting (delivery.ts). */
  delivery?: WatchDelivery;
}

export interface WatchDelivery {
  /** Deliveries measured; 0: none could be, and a sighting's precision is only its clock's. */
  samples: number;
  /** Of them, events stamped by their emitter (sighting - stamp). */
  events: number;
  /** The pod's ADDED after the POST's response (0 when it came first). */
  afterPostResponseMs?: number;
  medianMs?: number;
  p90Ms?: number;
  /** The bound used as the precision of watch sightings. */
  maxMs?: number;
}

export interface ClusterInfo {
  context?: string;
  cluster?: string;
  user?: string;
  server?: string;
  namespace?: string;
  authMethod?: string;
  serverVersion?: string;
  platform?: string;
  kubeconfigLoadMs?: number;
  credentialsMs?: number;
}

export interface Identity {
  username?: string;
  uid?: string;
  groups: string[];
  error?: string;
}

export interface AccessReview {
  verb?: string;
  resource?: string;
  namespace?: string;
  /** Absent when the review itself failed (see error): not known, not denied. */
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
  /** The review request failed; the POST decides. */
  error?: string;
}

export interface PodInfo {
  namespace: string;
  name: string;
  uid?: string;
  /** The version the API server stored the pod at (from the POST response); for watch and inspect, the latest seen. */
  resourceVersion?: string;
  creationTimestamp?: string;
  qosClass?: string;
  images: string[];
  nodeName?: string;
  podIP?: string;
  phase?: string;
}

export interface FieldChange {
  path: string;
  op: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
  /**
   * 'defaulting': a field the API server fills on every pod (built-in defaults,
   * the ServiceAccount token volume, the not-ready/unreachable tolerations);
   * 'admission': anything else, i.e. what a mutating webhook or policy did.
   */
  origin?: 'defaulting' | 'admission';
}

export interface Admission {
  status: 'accepted' | 'rejected' | 'pending';
  /** Submitted manifest vs the stored object: defaulting plus mutating admission. */
  changes: FieldChange[];
  rejection?: { status: number; reason?: string; message: string };
}

export interface SchedulingAttempt {
  at: number;
  offsetMs: number;
  source: TimeSource;
  precisionMs: number;
  reason: string;
  message: string;
  count: number;
}

export interface ContainerInfo {
  name: string;
  kind: 'init' | 'sidecar' | 'app';
  image: string;
  imagePullPolicy?: string;
  imageID?: string;
  pull: 'pulled' | 'present' | 'failed' | 'pending' | 'unknown';
  /** The kubelet's own measurement, from its Pulled message. */
  pullMs?: number;
  pullIncludingWaitingMs?: number;
  imageSizeBytes?: number;
  pullFailure?: { kind: 'not-found' | 'unauthorized' | 'other'; message: string };
  restarts: number;
  ready: boolean;
  state?: 'waiting' | 'running' | 'terminated';
  waiting?: { reason?: string; message?: string };
  lastTermination?: { reason?: string; exitCode?: number; message?: string };
  /** Failing probes (kubelet Unhealthy events), first occurrence first. */
  probeFailures?: ProbeFailure[];
  /** Its readiness probe as set: "TCP port 80, every 10 s, after 5 s". */
  readinessProbe?: string;
  /** Its postStart hook: "exec sh -c sleep 2". */
  postStart?: string;
}

/** One kubelet Unhealthy event: a probe that failed `count` times, from offsetMs to lastOffsetMs. */
export interface ProbeFailure {
  probe: 'readiness' | 'liveness' | 'startup';
  at: number;
  offsetMs: number;
  source: TimeSource;
  precisionMs: number;
  /** The latest failure, when the kubelet folded repeats into count > 1 (1-s precision then). */
  lastOffsetMs?: number;
  count: number;
  message: string;
}

export interface Gap {
  watch: string;
  from: number;
  to: number;
  fromOffsetMs: number;
  durationMs: number;
  reason: string;
  error?: string;
  /** Milestones in or near the gap that were taken from status fields instead of events. */
  recoveredFromStatus: string[];
  /** The watch had not come back when the run ended: nothing after `from` was seen through it. */
  unresolved?: boolean;
}

export type OutcomeClass =
  | 'ready'
  | 'in-progress'
  | 'unschedulable'
  | 'image-pull-not-found'
  | 'image-pull-unauthorized'
  | 'image-pull-backoff'
  | 'crash-loop'
  | 'container-config-error'
  | 'sandbox-failure'
  | 'readiness-never-succeeded'
  | 'admission-rejected'
  | 'validation-rejected'
  | 'forbidden'
  | 'pod-failed'
  | 'succeeded'
  | 'api-error'
  | 'timeout'
  | 'interrupted';

export interface Outcome {
  class: OutcomeClass;
  /** The component's own reason (e.g. ImagePullBackOff, Unschedulable). */
  reason?: string;
  /** The component's own message. */
  message?: string;
  /** The milestone that was not reached. */
  phase?: string;
  /** One line: what to do about it. */
  hint?: string;
  /** null while in progress. */
  exitCode: ExitCode | null;
  /** In progress: the failure the pod is in right now, if any (see isTerminalFailure / settledFailure). */
  suspected?: SuspectedFailure;
  /** A failure's specific cause, when the evidence names one (its hint is then the outcome's). */
  cause?: Cause;
  /** Ready: offset of pod.ready from t0. */
  readyAfterMs?: number;
}

/**
 * A failure the pod is in while the run goes on. `terminal`: waiting cannot
 * change it (e.g. ImagePullBackOff after the registry said "not found").
 * `since`: client time from which the pod has been continuously in it.
 */
export interface SuspectedFailure {
  class: Exclude<OutcomeClass, 'ready' | 'in-progress' | 'timeout' | 'interrupted'>;
  reason?: string;
  message?: string;
  phase?: string;
  hint: string;
  exitCode: ExitCode;
  terminal: boolean;
  since: number;
  cause?: Cause;
}

export interface RunInfo {
  /** Client clock at the start of the run (the recording header). */
  startedAt: number;
  /** t0: when the POST was sent (or the run start, before that). */
  t0: number;
  /** 'pod-created': `podtrace inspect`, which did not send the POST (creationTimestamp, to the second). */
  /** 'first-seen': `podtrace watch`, the pod's first sighting on the watch (ADDED). */
  t0Source: 'post-sent' | 'run-start' | 'pod-created' | 'first-seen';
  /**
   * 'inspect': rebuilt by `podtrace inspect` from a pod podtrace did not create;
   * 'watch': a pod `podtrace watch -l` saw appear (absent: create).
   */
  mode?: 'inspect' | 'watch';
  /** Client time of the last observation. */
  lastObservedAt: number;
  observations: number;
  /** The run ended (done, timeout, interrupted, or a rejected POST): the outcome is final. */
  final: boolean;
  /**
   * False when the trace may miss part of the run: it timed out or was
   * interrupted, a watch was lost until the end, or the pod could not be deleted.
   */
  complete: boolean;
  /** Why the trace is incomplete, one line each (absent when complete). */
  incomplete?: string[];
  /** The run's W3C trace context: what its requests carried, to find the components' spans of them. */
  otel?: RunTraceContext;
  /** node: `create --node`, the node the pod was pinned to. */
  options: { keep: boolean; timeoutMs: number; image?: string; expose?: number; observeMs?: number; logLines?: number; node?: string };
}

export interface RunTraceContext {
  /** 32 hex digits: every request of the run carried it, and the OTLP export uses it. */
  traceId: string;
  /** The span podtrace's own steps hang from. */
  rootSpanId: string;
  /** Each traced request: the call, its span id (its traceparent's), the Audit-ID it carried, when it went out and, answered, how long it took. */
  requests: Array<{ call: string; spanId: string; auditId: string; offsetMs: number; durationMs?: number }>;
}

export interface Trace {
  schemaVersion: typeof TRACE_SCHEMA_VERSION;
  tool: typeof TOOL_NAME;
  toolVersion: string;
  run: RunInfo;
  cluster: ClusterInfo | null;
  identity: Identity | null;
  accessReviews: AccessReview[];
  pod: PodInfo;
  admission: Admission;
  clock: ClockOffset;
  milestones: Milestone[];
  phases: Phase[];
  scheduling: { attempts: SchedulingAttempt[] };
  containers: ContainerInfo[];
  node: NodeInfo | null;
  gaps: Gap[];
  anomalies: Anomaly[];
  outcome: Outcome;
  /** A Ready pod: where the time went (explain.ts). */
  explain?: Explanation;
  service?: ServiceInfo;
  observed?: Observed;
  /** --spans: the components' own spans of the run. */
  spans?: SpanSection;
  /** The components' /metrics around the run (unless --no-metrics). */
  metrics?: MetricsSection;
}
