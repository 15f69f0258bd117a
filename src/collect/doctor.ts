/**
 * `podtrace doctor`: what the current context's cluster offers podtrace,
 * read without creating anything. The server's version (the reachability
 * check: a connection or credential failure ends the command with its own
 * exit code), who we are, the access reviews of what `create` needs, the
 * nodes and, for a few of them, each kubelet's running configuration
 * (/configz) and /metrics through the node proxy, the API server's /metrics,
 * and with a trace backend whether the components' spans reach it
 * (doctor-spans.ts). Every other failure is a finding, never the end.
 */
import { AuthError, UnreachableError } from '../errors.js';
import { describeKubeError, KubeApiError } from '../kube/errors.js';
import type { AccessReviewResult, ClusterApi, MetricsBody } from '../kube/types.js';
import {
  isReadError,
  kubeletConfigFacts,
  metricsFacts,
  type AccessFinding,
  type DoctorFindings,
  type KubeletFinding,
  type Read,
  type ReadError,
} from '../trace/doctor-findings.js';
import { checkSpans } from './doctor-spans.js';
import { KEPT_FAMILIES } from './metrics.js';
import { ObservationLog, type Clock } from './observation-log.js';
import { newTraceIds, runTracer } from './trace-context.js';

export interface DoctorRequest {
  clock: Clock;
  /** The Jaeger query API to look for the components' spans in (none: not checked). */
  backend?: string;
  /** The longest wait for the API server's span of the traced request. */
  spansWaitMs: number;
  /** How far back a kubelet's spans count. */
  kubeletWindowMs: number;
  /** The most kubelets read (the first by name). */
  maxNodes: number;
  /** The longest a kubelet read through the node proxy may take. */
  nodeReadTimeoutMs: number;
  signal?: AbortSignal;
}

/** A connection or credential failure is the command's end; anything else a finding. */
function failed(error: unknown): ReadError {
  if (error instanceof UnreachableError || error instanceof AuthError) throw error;
  return { error: describeKubeError(error), forbidden: error instanceof KubeApiError && error.kind === 'forbidden' };
}

function read<T>(call: Promise<T>): Promise<Read<T>> {
  return call.catch(failed);
}

function bounded<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)}s`)), ms);
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

interface Review {
  what: string;
  grantedBy: AccessFinding['grantedBy'];
  ask: (api: ClusterApi, namespace: string) => Promise<AccessReviewResult>;
}

/** What `create` needs (deploy/rbac.yaml) and what its metrics need (deploy/rbac-metrics.yaml). */
const REVIEWS: readonly Review[] = [
  ...(['create', 'delete', 'watch'] as const).map((verb) => ({
    what: `${verb} pods`,
    grantedBy: 'deploy/rbac.yaml' as const,
    ask: (api: ClusterApi, namespace: string) => api.accessReview({ verb, resource: 'pods', namespace }),
  })),
  { what: 'watch events', grantedBy: 'deploy/rbac.yaml', ask: (api, namespace) => api.accessReview({ verb: 'watch', resource: 'events', namespace }) },
  {
    what: 'watch events.k8s.io events',
    grantedBy: 'deploy/rbac.yaml',
    ask: (api, namespace) => api.accessReview({ verb: 'watch', resource: 'events', group: 'events.k8s.io', namespace }),
  },
  { what: 'get nodes', grantedBy: 'deploy/rbac.yaml', ask: (api) => api.accessReview({ verb: 'get', resource: 'nodes', namespace: '' }) },
  { what: 'get /metrics', grantedBy: 'deploy/rbac-metrics.yaml', ask: (api) => api.nonResourceAccessReview('get', '/metrics') },
  { what: 'get nodes/proxy', grantedBy: 'deploy/rbac-metrics.yaml', ask: (api) => api.accessReview({ verb: 'get', resource: 'nodes', subresource: 'proxy', namespace: '' }) },
];

async function access(api: ClusterApi, namespace: string): Promise<AccessFinding[]> {
  return Promise.all(
    REVIEWS.map(async ({ what, grantedBy, ask }) => {
      const result = await read(ask(api, namespace));
      return 'error' in result ? { what, grantedBy, error: result.error } : { what, grantedBy, allowed: result.allowed };
    }),
  );
}

interface NodeList {
  total: number;
  read: string[];
  versions: Map<string, string>;
}

async function nodes(api: ClusterApi, max: number): Promise<Read<NodeList>> {
  const list = await read(api.list({ resource: 'nodes' }, {}));
  if ('error' in list) return list;
  type NodeObject = { metadata?: { name?: string }; status?: { nodeInfo?: { kubeletVersion?: string } } };
  const all = (list.items as NodeObject[]).filter((n) => typeof n.metadata?.name === 'string').sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
  const versions = new Map(all.map((n) => [n.metadata!.name!, n.status?.nodeInfo?.kubeletVersion ?? '']));
  return { total: all.length, read: all.slice(0, max).map((n) => n.metadata!.name!), versions };
}

/** Asked without `protobuf`, a component's /metrics is always text. */
function asText(body: MetricsBody): string {
  return body.format === 'text' ? body.text : '';
}

async function kubelet(api: ClusterApi, node: string, version: string | undefined, timeoutMs: number): Promise<KubeletFinding> {
  const [configz, metrics] = await Promise.all([
    read(bounded(api.kubeletConfig(node), timeoutMs, `the kubelet of ${node}`)),
    read(bounded(api.componentMetrics({ component: 'kubelet', node }).then(asText), timeoutMs, `the kubelet of ${node}`)),
  ]);
  const config: KubeletFinding['config'] = isReadError(configz)
    ? configz
    : (kubeletConfigFacts(configz) ?? { error: 'its /configz answer has no kubeletconfig', forbidden: false });
  return {
    node,
    ...(version ? { kubeletVersion: version } : {}),
    config,
    metrics: typeof metrics === 'string' ? metricsFacts(metrics, KEPT_FAMILIES.kubelet) : metrics,
  };
}

export async function collectDoctor(api: ClusterApi, request: DoctorRequest): Promise<DoctorFindings> {
  const target = api.target;
  await api.resolveCredentials();
  // The version request is the reachability check and, with a backend, the API server's traced probe.
  const log = new ObservationLog(request.clock);
  const ids = newTraceIds();
  const sentAt = request.clock.now();
  if (request.backend !== undefined) api.traceRequests(runTracer(ids, log));
  let version: { gitVersion: string; platform: string };
  try {
    const answer = await read(api.serverVersion());
    version = 'error' in answer ? { gitVersion: '', platform: '' } : answer;
  } finally {
    api.traceRequests(undefined);
  }

  const [identity, namespace, reviews, nodeList, apiserverMetrics] = await Promise.all([
    read(api.selfSubjectReview().then(({ username, groups }) => ({ username, groups }))),
    read(api.namespaceStatus(target.namespace).then((status) => ({ status }))),
    access(api, target.namespace),
    nodes(api, request.maxNodes),
    read(api.componentMetrics({ component: 'apiserver' }).then(asText)),
  ]);
  const readNodes = 'error' in nodeList ? [] : nodeList.read;
  const [kubelets, spans] = await Promise.all([
    Promise.all(readNodes.map((node) => kubelet(api, node, 'error' in nodeList ? undefined : nodeList.versions.get(node), request.nodeReadTimeoutMs))),
    request.backend === undefined
      ? undefined
      : checkSpans({
          backend: request.backend,
          ids,
          log,
          sentAt,
          waitMs: request.spansWaitMs,
          kubeletWindowMs: request.kubeletWindowMs,
          nodes: readNodes,
          ...(request.signal ? { signal: request.signal } : {}),
        }),
  ]);

  return {
    target: { context: target.context, cluster: target.cluster, user: target.user, server: target.server, namespace: target.namespace, authMethod: target.authMethod },
    version,
    identity,
    namespace,
    access: reviews,
    nodes: 'error' in nodeList ? nodeList : { total: nodeList.total, read: nodeList.read },
    kubelets: kubelets.map((k) => (spans?.kubelets.has(k.node) ? { ...k, spans: spans.kubelets.get(k.node)! } : k)),
    apiserverMetrics: typeof apiserverMetrics === 'string' ? metricsFacts(apiserverMetrics, KEPT_FAMILIES.apiserver) : apiserverMetrics,
    ...(spans ? { backend: spans.backend } : {}),
  };
}
