import type {
  AccessReviewRequest,
  AccessReviewResult,
  ClusterApi,
  KubeClientRequest,
  KubeFactory,
  MetricsBody,
  NamespaceStatus,
  ObjectList,
  RequestTracer,
  Selectors,
  WatchDoneHandler,
  WatchedResource,
  WatchEventHandler,
  WatchHandle,
  WatchQuery,
  WriteResult,
} from '../../../src/kube/types.js';
import { KubeApiError } from '../../../src/kube/errors.js';
import type { KubeTarget } from '../../../src/kube/kubeconfig.js';

export interface MemoryStream {
  write(chunk: string): boolean;
  text(): string;
  isTTY?: boolean;
  columns?: number;
}

export function memoryStream(options: { isTTY?: boolean; columns?: number } = {}): MemoryStream {
  let buffer = '';
  return {
    write(chunk: string) {
      buffer += chunk;
      return true;
    },
    text: () => buffer,
    ...options,
  };
}

interface Stream {
  what: WatchedResource;
  query: WatchQuery;
  onEvent: WatchEventHandler;
  onDone: WatchDoneHandler;
  open: boolean;
}

export interface FakeClusterOptions {
  namespaceStatus?: NamespaceStatus;
  createAllowed?: boolean;
  deleteAllowed?: boolean;
  postError?: { status: number; body: unknown };
  /** What the pod does after the POST; default: scheduled, pulled, started, Ready. */
  lifecycle?: 'ready' | 'image-not-found';
  /** Fail every call with this error (e.g. a connection failure). */
  unreachable?: Error;
  /** The components' /metrics text (default: empty); a thrown error is the read's failure. */
  metrics?: (of: { component: 'apiserver' } | { component: 'kubelet'; node: string }) => string | Promise<string>;
  /** The cluster's nodes and each kubelet's /configz answer (default: none); a config that is an Error is thrown. */
  nodes?: Array<{ name: string; config?: unknown; ready?: boolean; unschedulable?: boolean; taints?: Array<{ key: string; value?: string; effect: string }> }>;
  /** The node proxy's stats summary refused (403), as without nodes/proxy. */
  statsForbidden?: boolean;
  /** metrics.k8s.io's answers to the pod's metrics, one per read, the last repeated ('not-found': not scraped yet). */
  podMetrics?: Array<'not-found' | Record<string, unknown>>;
  /** Access reviews answered "no", as `verb resource[/subresource]` or `verb /url` (e.g. 'get /metrics', 'get nodes/proxy'). */
  forbid?: string[];
}

/**
 * A tiny API server in memory: records every call, answers LISTs empty, and
 * after the POST plays a pod's life over the watches, like the real cluster.
 */
export class FakeCluster {
  readonly calls: string[] = [];
  /** Every traced request: the call and the trace context it carried. */
  readonly traced: Array<{ call: string; traceparent: string; auditId: string }> = [];
  readonly factoryRequests: KubeClientRequest[] = [];
  readonly streams: Stream[] = [];
  #rv = 100;
  #pod: Record<string, any> | undefined;
  #metricsReads = 0;

  constructor(readonly options: FakeClusterOptions = {}) {}

  readonly factory: KubeFactory = async (request) => {
    this.factoryRequests.push(request);
    return this.client(request);
  };

  client(request: KubeClientRequest): ClusterApi {
    const target: KubeTarget = {
      context: 'fake',
      cluster: 'fake',
      user: 'fake-user',
      server: 'https://127.0.0.1:6443',
      namespace: request.namespace ?? 'default',
      namespaceSource: request.namespace ? 'flag' : 'default',
      authMethod: 'token',
      files: ['/fake/kubeconfig'],
      loadMs: 0.5,
    };
    const cluster = this;
    let tracer: RequestTracer | undefined;
    const guard = (name: string): void => {
      cluster.calls.push(name);
      const call = name.split(' ')[0]!;
      if (tracer && call !== 'list' && call !== 'watch' && call !== 'resolveCredentials') cluster.traced.push({ call, ...tracer(call) });
      if (cluster.options.unreachable) throw cluster.options.unreachable;
    };
    const notFound = (what: string): KubeApiError => KubeApiError.fromResponse(404, { kind: 'Status', reason: 'NotFound', message: `${what} not found` });
    return {
      target,
      async resolveCredentials() {
        guard('resolveCredentials');
        return { durationMs: 0.2, method: 'token' };
      },
      async serverVersion() {
        guard('serverVersion');
        return { gitVersion: 'v1.34.0', platform: 'linux/amd64' };
      },
      async selfSubjectReview() {
        guard('selfSubjectReview');
        return { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
      },
      async accessReview(req: AccessReviewRequest): Promise<AccessReviewResult> {
        guard(`accessReview ${req.verb} ${req.resource}${req.subresource ? `/${req.subresource}` : ''} ${req.namespace}`);
        const forbidden = cluster.options.forbid?.includes(`${req.verb} ${req.resource}${req.subresource ? `/${req.subresource}` : ''}`) === true;
        const allowed =
          !forbidden && (req.verb === 'create' ? cluster.options.createAllowed !== false : req.verb === 'delete' ? cluster.options.deleteAllowed !== false : true);
        return { allowed, denied: !allowed, reason: allowed ? 'RBAC: allowed' : '', evaluationError: '' };
      },
      async nonResourceAccessReview(verb: string, url: string): Promise<AccessReviewResult> {
        guard(`accessReview ${verb} ${url}`);
        const allowed = cluster.options.forbid?.includes(`${verb} ${url}`) !== true;
        return { allowed, denied: false, reason: allowed ? 'RBAC: allowed' : '', evaluationError: '' };
      },
      async namespaceStatus(ns: string): Promise<NamespaceStatus> {
        guard(`namespaceStatus ${ns}`);
        return cluster.options.namespaceStatus ?? 'exists';
      },
      async createPod(ns: string, pod: unknown): Promise<WriteResult> {
        guard(`createPod ${ns}`);
        return cluster.#createPod(pod);
      },
      async getPod(ns: string, name: string): Promise<unknown> {
        guard(`getPod ${ns}/${name}`);
        if (!cluster.#pod) throw notFound(`pods "${name}"`);
        return structuredClone(cluster.#pod);
      },
      async deletePod(ns: string, name: string): Promise<WriteResult> {
        guard(`deletePod ${ns}/${name}`);
        return cluster.#deletePod(name);
      },
      async podLog(ns: string, name: string, container: string): Promise<string> {
        guard(`podLog ${ns}/${name} ${container}`);
        return '';
      },
      async createService(ns: string): Promise<WriteResult> {
        guard(`createService ${ns}`);
        throw new Error('fake cluster: no Services');
      },
      async getService(ns: string, name: string): Promise<unknown> {
        guard(`getService ${ns}/${name}`);
        throw notFound(`services "${name}"`);
      },
      async deleteService(ns: string, name: string): Promise<WriteResult> {
        guard(`deleteService ${ns}/${name}`);
        throw notFound(`services "${name}"`);
      },
      async nodeStatus(name: string): Promise<NamespaceStatus> {
        guard(`nodeStatus ${name}`);
        return cluster.options.nodes && !cluster.options.nodes.some((n) => n.name === name) ? 'not-found' : 'exists';
      },
      async getNode(name: string): Promise<unknown> {
        guard(`getNode ${name}`);
        return { kind: 'Node', apiVersion: 'v1', metadata: { name }, status: { nodeInfo: { kubeletVersion: 'v1.34.0' } } };
      },
      async nodeStatsSummary(node: string): Promise<unknown> {
        guard(`nodeStatsSummary ${node}`);
        if (cluster.options.statsForbidden) {
          throw KubeApiError.fromResponse(403, { kind: 'Status', reason: 'Forbidden', message: `nodes "${node}" is forbidden: cannot get resource "nodes/proxy"` });
        }
        return { pods: [] };
      },
      async podMetrics(ns: string, name: string): Promise<unknown> {
        guard(`podMetrics ${ns}/${name}`);
        const answers = cluster.options.podMetrics ?? ['not-found'];
        const answer = answers[Math.min(cluster.#metricsReads++, answers.length - 1)]!;
        if (answer === 'not-found') throw notFound(`podmetrics "${name}"`);
        return answer;
      },
      async componentMetrics(of: { component: 'apiserver' } | { component: 'kubelet'; node: string }): Promise<MetricsBody> {
        guard(`componentMetrics ${of.component}${'node' in of ? ` ${of.node}` : ''}`);
        return { format: 'text', text: (await cluster.options.metrics?.(of)) ?? '' };
      },
      async kubeletConfig(node: string): Promise<unknown> {
        guard(`kubeletConfig ${node}`);
        const config = cluster.options.nodes?.find((n) => n.name === node)?.config;
        if (config instanceof Error) throw config;
        if (config === undefined) throw notFound(`nodes "${node}"`);
        return structuredClone(config);
      },
      async list(what: WatchedResource, selectors: Selectors): Promise<ObjectList> {
        guard(`list ${describeWhat(what)} ${selectors.fieldSelector ?? selectors.labelSelector ?? ''}`.trimEnd());
        const items =
          what.resource === 'nodes'
            ? (cluster.options.nodes ?? []).map((n) => ({
                metadata: { name: n.name },
                spec: { ...(n.unschedulable ? { unschedulable: true } : {}), ...(n.taints ? { taints: n.taints } : {}) },
                status: { nodeInfo: { kubeletVersion: 'v1.34.0' }, conditions: [{ type: 'Ready', status: n.ready === false ? 'False' : 'True' }] },
              }))
            : [];
        return { resourceVersion: String(cluster.#rv), items };
      },
      async watch(what: WatchedResource, query: WatchQuery, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<WatchHandle> {
        guard(`watch ${describeWhat(what)} ${query.fieldSelector ?? query.labelSelector ?? ''}`.trimEnd());
        const stream: Stream = { what, query, onEvent, onDone, open: true };
        cluster.streams.push(stream);
        return {
          abort: () => {
            if (!stream.open) return;
            stream.open = false;
            setImmediate(() => onDone(null));
          },
        };
      },
      traceRequests(next: RequestTracer | undefined) {
        tracer = next;
      },
      async close() {
        cluster.calls.push('close');
      },
    };
  }

  get apiCalls(): string[] {
    return this.calls.filter((c) => c !== 'close');
  }

  /** Delivers to the open namespaced watches of this resource ('pods', 'events'). */
  #send(resource: 'pods' | 'events', type: string, object: unknown): void {
    for (const s of this.streams) {
      if (s.open && s.what.resource === resource && 'namespace' in s.what && s.what.namespace !== undefined) s.onEvent(type, structuredClone(object));
    }
  }

  #nextRv(): string {
    this.#rv += 1;
    return String(this.#rv);
  }

  #createPod(body: unknown): WriteResult {
    if (this.options.postError) throw KubeApiError.fromResponse(this.options.postError.status, this.options.postError.body);
    const submitted = body as Record<string, any>;
    const now = new Date();
    this.#pod = {
      ...structuredClone(submitted),
      metadata: { ...submitted['metadata'], uid: 'uid-1', resourceVersion: this.#nextRv(), creationTimestamp: iso(now) },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    };
    this.#play();
    return { status: 201, object: structuredClone(this.#pod) };
  }

  #deletePod(name: string): WriteResult {
    if (!this.#pod) throw KubeApiError.fromResponse(404, { kind: 'Status', reason: 'NotFound', message: `pods "${name}" not found` });
    const pod = this.#pod;
    setTimeout(() => {
      pod['metadata'] = { ...pod['metadata'], deletionTimestamp: iso(new Date()), resourceVersion: this.#nextRv() };
      this.#send('pods', 'MODIFIED', pod);
      this.#event('Killing', 'Stopping container main');
      setTimeout(() => {
        pod['metadata'] = { ...pod['metadata'], resourceVersion: this.#nextRv() };
        this.#send('pods', 'DELETED', pod);
        this.#pod = undefined;
      }, 5);
    }, 5);
    return { status: 200, object: structuredClone(pod) };
  }

  #event(reason: string, message: string, type = 'Normal'): void {
    const pod = this.#pod;
    if (!pod) return;
    const now = new Date();
    const name = `${pod['metadata'].name}.${(BigInt(now.getTime()) * 1_000_000n).toString(16)}`;
    this.#send('events', 'ADDED', {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { name, namespace: pod['metadata'].namespace, resourceVersion: this.#nextRv(), creationTimestamp: iso(now) },
      involvedObject: { kind: 'Pod', name: pod['metadata'].name, namespace: pod['metadata'].namespace, uid: 'uid-1', fieldPath: 'spec.containers{main}' },
      reason,
      message,
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: iso(now),
      lastTimestamp: iso(now),
      count: 1,
      type,
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
    });
  }

  /** The pod's life after the POST, a few ms apart. */
  #play(): void {
    const steps: Array<() => void> = [];
    const pod = () => this.#pod!;
    const update = (mutate: (p: Record<string, any>) => void) => () => {
      if (!this.#pod) return;
      mutate(pod());
      pod()['metadata'].resourceVersion = this.#nextRv();
      this.#send('pods', 'MODIFIED', pod());
    };
    const container = pod()['spec'].containers[0].name as string;
    const image = pod()['spec'].containers[0].image as string;
    steps.push(() => this.#send('pods', 'ADDED', pod()));
    steps.push(
      update((p) => {
        // where --node pinned it (a required affinity to the node's name), else node-1
        p['spec'].nodeName = p['spec'].affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] ?? 'node-1';
        p['status'].conditions = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: iso(new Date()) }];
      }),
    );
    steps.push(
      update((p) => {
        p['status'].startTime = iso(new Date());
        p['status'].hostIP = '10.0.0.1';
        p['status'].containerStatuses = [{ name: container, image, ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }];
      }),
    );
    steps.push(() => this.#event('Pulling', `Pulling image "${image}"`));
    if (this.options.lifecycle === 'image-not-found') {
      steps.push(() => this.#event('Failed', `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/${image}": failed to resolve reference "docker.io/library/${image}": docker.io/library/${image}: not found`, 'Warning'));
      steps.push(
        update((p) => {
          p['status'].containerStatuses[0].state = { waiting: { reason: 'ErrImagePull', message: `failed to resolve reference: not found` } };
        }),
      );
      steps.push(
        update((p) => {
          p['status'].containerStatuses[0].state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: not found` } };
        }),
      );
    } else {
      steps.push(() => this.#event('Pulled', `Successfully pulled image "${image}" in 1.234s (1.5s including waiting). Image size: 1000 bytes.`));
      steps.push(() => this.#event('Created', `Created container: ${container}`));
      steps.push(() => this.#event('Started', `Started container ${container}`));
      steps.push(
        update((p) => {
          const t = iso(new Date());
          p['status'].phase = 'Running';
          p['status'].podIP = '10.244.0.5';
          p['status'].conditions = [
            { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: t },
            { type: 'Initialized', status: 'True', lastTransitionTime: t },
            { type: 'Ready', status: 'True', lastTransitionTime: t },
            { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
            { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          ];
          p['status'].containerStatuses = [{ name: container, image, imageID: `${image}@sha256:${'a'.repeat(64)}`, ready: true, started: true, restartCount: 0, state: { running: { startedAt: t } } }];
        }),
      );
    }
    let delay = 2;
    for (const step of steps) {
      setTimeout(step, delay);
      delay += 2;
    }
  }
}

function describeWhat(what: WatchedResource): string {
  return 'namespace' in what && what.namespace !== undefined ? `${what.resource} ${what.namespace}` : what.resource;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Runs `podtrace create ARGV` in-process against a FakeCluster, in a fresh
 * temporary directory, with captured streams.
 */
export async function createInMemory(
  argv: string[],
  extra: { cluster?: FakeCluster; signals?: unknown; exit?: (code: number) => void } = {},
): Promise<{ code: number; stdout: string; stderr: string; cluster: FakeCluster; cwd: string }> {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { main } = await import('../../../src/cli.js');
  const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-create-'));
  const cluster = extra.cluster ?? new FakeCluster();
  const stdout = memoryStream();
  const stderr = memoryStream();
  const code = await main(['create', ...argv], {
    stdout,
    stderr,
    env: {},
    kube: cluster.factory,
    cwd,
    ...(extra.signals ? { signals: extra.signals as never } : {}),
    ...(extra.exit ? { exit: extra.exit } : {}),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text(), cluster, cwd };
}
