/**
 * The contract between the watchers (which only observe) and reconstruct()
 * (which only computes). A recording (`--record FILE.ndjson`) is one
 * RecordingHeader line followed by one Observation per line, in arrival order.
 */

export type ObservationSource =
  | 'pod' // core/v1 Pod watch (field selector on the pod's name)
  | 'event' // core/v1 Event watch (involvedObject.name of the pod, or the node)
  | 'eventsv1' // events.k8s.io/v1 Event watch (regarding.name)
  | 'node' // core/v1 Node watch/get of the pod's node
  | 'endpointslice' // discovery.k8s.io/v1 EndpointSlices of the --expose Service
  | 'client'; // what podtrace itself did and measured (client clock)

/** Watch event types, as the API server sends them, plus the synthetic LIST for relist/initial list items. */
export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'LIST';

/**
 * Client-side happenings. `data` holds what the step measured; never credentials.
 * - kubeconfig-loaded: { context, cluster, user, server, namespace, authMethod, loadMs }
 * - credentials-resolved: { durationMs, method: 'token'|'client-certificate'|'exec'|'auth-provider'|'basic'|'none' }
 * - server-version: { gitVersion, platform }
 * - self-subject-review: { username, uid, groups, extra? } | { error }
 * - access-review: { verb, resource, namespace, allowed, denied, reason, evaluationError }
 * - submitted: { pod }  (the manifest as sent, before admission/defaulting)
 * - post-sent: {}
 * - post-response: { status: 201, pod } (the stored object, as the server returned it)
 * - post-error: { status, reason, message, details }   (422 validation, 403 admission/RBAC, 409, ...)
 * - watch-started: { watch: 'pod'|'event'|'eventsv1'|'node', resourceVersion }
 * - watch-gap: { watch, from, to, reason: 'closed'|'error'|'410-gone', error? }  (from/to: client ms)
 * - relist: { watch, resourceVersion, items }
 * - node-info: { node } (a GET of the node when it becomes known)
 * - delete-sent: {} / delete-response: { status } / delete-error: { status, message }
 * - pod-gone: {} (the watch saw DELETED, or a GET returned 404)
 * - service-created: { service } (--expose: the stored Service) / service-error: { status, reason, message }
 * - cluster-dns: { service?: 'kube-system/kube-dns', found: boolean, clusterIP? } | { error }
 * - service-reach: { vantage: 'client' | 'pod', what: 'route' | 'dns', target, ok, attempts, attemptAt?, previousAttemptAt?, error? }
 *   (--expose: the first try that reached the pod through the cluster IP, or resolved the Service's
 *   name through the cluster DNS; attemptAt: when that try started. vantage 'client': from podtrace's
 *   machine, on its clock; 'pod': from the probe pod, with { pod, node, firstAttemptAt }, times on
 *   its node's clock, Unix ms; pending: true when it had not settled yet, with its tries so far)
 * - kubelet-config: { node, serializeImagePulls?, maxParallelImagePulls?, registryPullQPS?, registryBurst? } | { node, error, forbidden }
 *   (its /configz, read when a pull waited for others or hit the registry QPS)
 * - image-lookup: { image, registry, repository, tag?, asked, answer: 'repository-missing' | 'tag-missing' | 'tag-present', tags?, more? }
 *   | { ..., answer: 'unknown', error }   (the registry's tags list, asked when a pull failed "not found")
 * - nodes-at-failure: { nodes: [{ name, taints?, unschedulable?, allocatable? }] } | { error }   (once, when the run stops on unschedulable)
 * - reach-pod: { pod, image, created: true, status } | { pod, image, created: false, error }   (the probe pod's create)
 * - reach-pod-result: { pod, node?, phase?, results, error }   (the probe gave fewer results than targets, and why)
 * - service-deleted: { status } | { error }
 * - observe-started: { durationMs } / observe-ended: {}   (--observe: the window after Ready)
 * - delayed-events-wait: { milestones, maxMs } / delayed-events-ended: { arrived, missing }   (after an event-watch gap)
 * - usage-sample: { source: 'kubelet-stats', pod: the pod's entry of the kubelet's stats summary, as read (null: absent) }
 *   | { source: 'metrics-api', podMetrics: the PodMetrics as read } | { error }
 *   (recordings before raw readings: { source, containers: [{ name, cpuMillicores?, memoryBytes? }] })
 * - logs: { container, lines: string[], truncated } | { container, error }   (--logs N: the first N lines)
 * - timeout: { afterMs } / interrupted: { signal }
 * - spans: { backend, query: { kind: 'run-trace'|'audit-id'|'pod'|'authentication', ... }, response }  (--spans: one trace backend answer, as it came)
 * - spans-read: { backend, waitedMs, traces, missing: [what the run implies but never came] } | { backend, error, waitedMs }
 * - metrics-sample: { component: 'apiserver'|'kubelet', node?, phase: 'before'|'after-post'|'after', requestedAt, lines: [the kept _sum and _count lines, as read] } | { component, node?, phase, error }
 * - request-traced: { call, spanId, auditId }  (a request went out with traceparent 00-<header.trace.traceId>-<spanId>-01 and this Audit-ID)
 * - done: { reason }
 */
export type ClientObservationType =
  | 'kubeconfig-loaded'
  | 'credentials-resolved'
  | 'server-version'
  | 'self-subject-review'
  | 'access-review'
  | 'submitted'
  | 'post-sent'
  | 'post-response'
  | 'post-error'
  | 'watch-started'
  | 'watch-gap'
  | 'relist'
  | 'node-info'
  | 'delete-sent'
  | 'delete-response'
  | 'delete-error'
  | 'pod-gone'
  | 'service-created'
  | 'service-error'
  | 'cluster-dns'
  | 'service-reach'
  | 'reach-pod'
  | 'nodes-at-failure'
  | 'kubelet-config'
  | 'image-lookup'
  | 'reach-pod-result'
  | 'service-deleted'
  | 'delayed-events-wait'
  | 'delayed-events-ended'
  | 'observe-started'
  | 'observe-ended'
  | 'usage-sample'
  | 'logs'
  | 'request-traced'
  | 'spans'
  | 'spans-read'
  | 'metrics-sample'
  | 'timeout'
  | 'interrupted'
  | 'done';

export interface Observation {
  /** Arrival order, from 0. */
  seq: number;
  source: ObservationSource;
  /** WatchType for the watch sources, ClientObservationType for 'client'. */
  type: string;
  /** Client clock when podtrace saw it: ms since the Unix epoch, with sub-ms fraction. */
  observedAt: number;
  /** The API object exactly as received (watch sources). */
  object?: unknown;
  /** What a client step measured ('client' source). */
  data?: Record<string, unknown>;
}

export const RECORDING_KIND = 'podtrace-recording';
export const RECORDING_VERSION = 1;

export interface RecordingHeader {
  kind: typeof RECORDING_KIND;
  version: typeof RECORDING_VERSION;
  toolVersion: string;
  /** Client clock at the start of the run, ms since epoch. */
  startedAt: number;
  namespace: string;
  podName: string;
  /** The run's W3C trace id and root span id: its requests carried them (request-traced observations). */
  trace?: { traceId: string; rootSpanId: string };
  /**
   * argv-level intent that shapes the trace (e.g. whether teardown was requested).
   * inspect: `podtrace inspect` read an existing pod once, long after the facts:
   * its sightings say nothing about when things happened, only its timestamps do.
   */
  options: {
    keep: boolean;
    timeoutMs: number;
    image?: string;
    inspect?: boolean;
    /** `podtrace watch`: a pod someone else created, seen from its first ADDED on a label-selector watch. */
    watch?: boolean;
    expose?: number;
    /** With --expose: where the Service was tried from (recordings before it: the client only). */
    reachFrom?: Array<'client' | 'pod'>;
    observeMs?: number;
    logLines?: number;
    /** `create --node`: the node the pod was pinned to. */
    node?: string;
  };
}
