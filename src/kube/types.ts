/**
 * The typed cluster API: everything podtrace asks of a Kubernetes cluster,
 * as calls on objects, never as URLs. The one implementation over HTTP is
 * cluster-api.ts (the only place that knows REST paths); tests hand
 * collectors and commands a fake of this interface. Nothing here imports the
 * Kubernetes client, so `--help` and the tests never load it.
 *
 * Failures are translated once, in the implementation: UnreachableError
 * (connection, TLS), AuthError (401), else KubeApiError with its `kind`.
 */
import type { AuthMethod, KubeTarget } from './kubeconfig.js';

export type { AuthMethod, KubeTarget };

export interface WatchHandle {
  abort(): void;
}

/** `type` is the watch event type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR). */
export type WatchEventHandler = (type: string, object: unknown) => void;
/** Called once when the stream ends: `error` is null for a clean close. */
export type WatchDoneHandler = (error: unknown) => void;

/** A collection podtrace lists and watches. Events without a namespace: the whole cluster's (a node's events). */
export type WatchedResource =
  | { resource: 'pods'; namespace: string }
  | { resource: 'events'; namespace?: string }
  | { resource: 'eventsv1'; namespace: string }
  | { resource: 'nodes' }
  | { resource: 'endpointslices'; namespace: string };

export interface Selectors {
  fieldSelector?: string;
  labelSelector?: string;
}

export interface WatchQuery extends Selectors {
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
}

export interface ObjectList {
  /** The list's resourceVersion, to watch from. */
  resourceVersion: string | undefined;
  items: unknown[];
}

/** What a write answered: its HTTP status and the object exactly as the server returned it. */
export interface WriteResult {
  status: number;
  object: unknown;
}

export interface SelfSubjectReviewResult {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface AccessReviewRequest {
  verb: string;
  resource: string;
  /** '' for every namespace (or a cluster-scoped resource). */
  namespace: string;
  /** The API group ('' or absent: core). */
  group?: string;
  /** e.g. 'proxy' of nodes/proxy. */
  subresource?: string;
}

export interface AccessReviewResult {
  allowed: boolean;
  denied: boolean;
  reason: string;
  evaluationError: string;
}

export type NamespaceStatus = 'exists' | 'not-found' | 'forbidden';

/** W3C trace context and the audit ID one request carries, so the API server's spans of it can be found. */
export interface RequestTrace {
  /** `00-<trace id>-<span id>-01`. */
  traceparent: string;
  /** Sent as `Audit-ID`: the API server uses it as the request's audit ID and its spans' `audit-id` attribute. */
  auditId: string;
}

/** Called for every request but lists and watches, with the call's name ('createPod', 'accessReview' ...). */
export type RequestTracer = (call: string) => RequestTrace;

export interface ClusterApi {
  readonly target: KubeTarget;
  /** Runs whatever produces credentials (exec plugins, token files) once and times it. */
  resolveCredentials(): Promise<{ durationMs: number; method: AuthMethod }>;
  serverVersion(): Promise<{ gitVersion: string; platform: string }>;
  selfSubjectReview(): Promise<SelfSubjectReviewResult>;
  accessReview(request: AccessReviewRequest): Promise<AccessReviewResult>;
  /** May I `verb` this non-resource URL (the API server's /metrics)? A SelfSubjectAccessReview of nonResourceAttributes. */
  nonResourceAccessReview(verb: string, url: string): Promise<AccessReviewResult>;
  namespaceStatus(namespace: string): Promise<NamespaceStatus>;
  /** Whether a node of that name exists (`create --node`), read as namespaceStatus reads a namespace. */
  nodeStatus(name: string): Promise<NamespaceStatus>;

  /** `call` names the request among the run's traced requests: createPod is the traced pod's POST, a helper pod's has its own name. */
  createPod(namespace: string, pod: unknown, call?: string): Promise<WriteResult>;
  getPod(namespace: string, name: string): Promise<unknown>;
  deletePod(namespace: string, name: string, call?: string): Promise<WriteResult>;
  /** A container's log (the current run), as text: its first limitBytes, or of its last tailLines lines. */
  podLog(namespace: string, name: string, container: string, limitBytes: number, tailLines?: number): Promise<string>;

  createService(namespace: string, service: unknown): Promise<WriteResult>;
  getService(namespace: string, name: string): Promise<unknown>;
  deleteService(namespace: string, name: string): Promise<WriteResult>;

  getNode(name: string): Promise<unknown>;
  /** The kubelet's /stats/summary, through the API server's node proxy. */
  nodeStatsSummary(node: string): Promise<unknown>;
  /** metrics.k8s.io PodMetrics of one pod. */
  podMetrics(namespace: string, name: string): Promise<unknown>;
  /**
   * A component's Prometheus metrics: the API server's own /metrics, or a kubelet's through the
   * node proxy. As text, or with `protobuf` in the delimited protobuf form when the component
   * gives it (it answers text otherwise).
   */
  componentMetrics(of: { component: 'apiserver' } | { component: 'kubelet'; node: string }, options?: { protobuf?: boolean }): Promise<MetricsBody>;
  /** A kubelet's running configuration (its /configz, through the node proxy), as it answered: `{ kubeletconfig: {...} }`. */
  kubeletConfig(node: string): Promise<unknown>;

  list(what: WatchedResource, selectors: Selectors): Promise<ObjectList>;
  /** Opens one watch stream; resolves once the server answered (or onDone already ran). */
  watch(what: WatchedResource, query: WatchQuery, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<WatchHandle>;
  /** From now on every request but lists and watches carries the tracer's trace context (undefined: none). */
  traceRequests(tracer: RequestTracer | undefined): void;
  /** Closes the shared connection pool. */
  close(): Promise<void>;
}

export interface KubeClientRequest {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** How a command gets its cluster API; injected by tests, lazily loaded in production. */
export type KubeFactory = (request: KubeClientRequest) => Promise<ClusterApi>;

/** A component's /metrics as it answered: the text exposition, or the delimited protobuf MetricFamily messages. */
export type MetricsBody = { format: 'text'; text: string } | { format: 'protobuf'; bytes: Uint8Array };
