/**
 * The cluster API over HTTP: the one place that knows the API server's REST
 * paths, and where every failure is translated once (see errors.ts).
 */
import { KubeconfigError } from '../errors.js';
import { KubeApiError } from './errors.js';
import type { KubeTarget } from './kubeconfig.js';
import { connectionFailure } from './network-errors.js';
import type { HttpVerb, QueryParams, Transport } from './transport.js';
import type {
  AccessReviewRequest,
  AccessReviewResult,
  ClusterApi,
  MetricsBody,
  NamespaceStatus,
  ObjectList,
  RequestTracer,
  Selectors,
  SelfSubjectReviewResult,
  WatchDoneHandler,
  WatchedResource,
  WatchEventHandler,
  WatchHandle,
  WatchQuery,
  WriteResult,
} from './types.js';

/** Prometheus's delimited protobuf form, with the text form as the fallback, for an Accept header. */
const PROTOBUF_OR_TEXT = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9,text/plain;version=0.0.4;q=0.5';

/** True when a Content-Type says the body is the delimited protobuf form. */
function isProtobufExposition(contentType: string): boolean {
  return contentType.startsWith('application/vnd.google.protobuf') && contentType.includes('encoding=delimited') && contentType.includes('io.prometheus.client.MetricFamily');
}

const segment = encodeURIComponent;

/** The collection path of a watched resource. */
export function collectionPath(what: WatchedResource): string {
  switch (what.resource) {
    case 'pods':
      return `/api/v1/namespaces/${segment(what.namespace)}/pods`;
    case 'events':
      return what.namespace === undefined ? '/api/v1/events' : `/api/v1/namespaces/${segment(what.namespace)}/events`;
    case 'eventsv1':
      return `/apis/events.k8s.io/v1/namespaces/${segment(what.namespace)}/events`;
    case 'nodes':
      return '/api/v1/nodes';
    case 'endpointslices':
      return `/apis/discovery.k8s.io/v1/namespaces/${segment(what.namespace)}/endpointslices`;
  }
}

const podPath = (namespace: string, name: string): string => `/api/v1/namespaces/${segment(namespace)}/pods/${segment(name)}`;
const servicesPath = (namespace: string): string => `/api/v1/namespaces/${segment(namespace)}/services`;
const nodePath = (name: string): string => `/api/v1/nodes/${segment(name)}`;

export class HttpClusterApi implements ClusterApi {
  #tracer: RequestTracer | undefined;

  constructor(
    private readonly transport: Transport,
    readonly target: KubeTarget,
  ) {}

  async resolveCredentials(): Promise<{ durationMs: number; method: KubeTarget['authMethod'] }> {
    const started = performance.now();
    try {
      await this.transport.applyCredentials();
    } catch (error) {
      throw new KubeconfigError(`could not get credentials for user "${this.target.user}" (${this.target.authMethod}): ${firstLine(error)}`, {
        cause: error,
      });
    }
    return { durationMs: performance.now() - started, method: this.target.authMethod };
  }

  async serverVersion(): Promise<{ gitVersion: string; platform: string }> {
    const info = ((await this.#json('serverVersion', 'GET', '/version')) ?? {}) as { gitVersion?: string; platform?: string };
    return { gitVersion: info.gitVersion ?? '', platform: info.platform ?? '' };
  }

  async selfSubjectReview(): Promise<SelfSubjectReviewResult> {
    const body = await this.#json('selfSubjectReview', 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    type UserInfo = { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    const info = (body as { status?: { userInfo?: UserInfo } } | undefined)?.status?.userInfo;
    return {
      username: info?.username ?? '',
      ...(info?.uid ? { uid: info.uid } : {}),
      groups: info?.groups ?? [],
      ...(info?.extra && Object.keys(info.extra).length > 0 ? { extra: info.extra } : {}),
    };
  }

  accessReview(request: AccessReviewRequest): Promise<AccessReviewResult> {
    const { verb, resource, namespace, group, subresource } = request;
    return this.#review('accessReview', {
      resourceAttributes: { verb, resource, namespace, ...(group ? { group } : {}), ...(subresource ? { subresource } : {}) },
    });
  }

  nonResourceAccessReview(verb: string, url: string): Promise<AccessReviewResult> {
    return this.#review('accessReview', { nonResourceAttributes: { verb, path: url } });
  }

  async #review(call: string, spec: Record<string, unknown>): Promise<AccessReviewResult> {
    const body = await this.#json(call, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec },
    });
    type Status = { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
    const review = body as { status?: Status } | undefined;
    return {
      allowed: review?.status?.allowed ?? false,
      denied: review?.status?.denied ?? false,
      reason: review?.status?.reason ?? '',
      evaluationError: review?.status?.evaluationError ?? '',
    };
  }

  namespaceStatus(namespace: string): Promise<NamespaceStatus> {
    return this.#existence('namespaceStatus', `/api/v1/namespaces/${segment(namespace)}`);
  }

  nodeStatus(name: string): Promise<NamespaceStatus> {
    return this.#existence('nodeStatus', nodePath(name));
  }

  /** A GET whose only answer that matters is whether the object is there. */
  async #existence(call: string, path: string): Promise<NamespaceStatus> {
    try {
      await this.#json(call, 'GET', path);
      return 'exists';
    } catch (error) {
      if (error instanceof KubeApiError && error.kind === 'not-found') return 'not-found';
      if (error instanceof KubeApiError && error.kind === 'forbidden') return 'forbidden';
      throw error;
    }
  }

  createPod(namespace: string, pod: unknown, call = 'createPod'): Promise<WriteResult> {
    return this.#write(call, 'POST', `/api/v1/namespaces/${segment(namespace)}/pods`, pod);
  }

  getPod(namespace: string, name: string): Promise<unknown> {
    return this.#json('getPod', 'GET', podPath(namespace, name));
  }

  deletePod(namespace: string, name: string, call = 'deletePod'): Promise<WriteResult> {
    return this.#write(call, 'DELETE', podPath(namespace, name));
  }

  async podLog(namespace: string, name: string, container: string, limitBytes: number, tailLines?: number): Promise<string> {
    const { status, text } = await this.transport.send('GET', `${podPath(namespace, name)}/log`, {
      query: { container, limitBytes, ...(tailLines !== undefined ? { tailLines } : {}) },
      accept: 'text/plain, application/json',
      ...this.#traced('podLog'),
    });
    if (status < 200 || status > 299) throw this.#failure(status, parseBody(text));
    return text;
  }

  createService(namespace: string, service: unknown): Promise<WriteResult> {
    return this.#write('createService', 'POST', servicesPath(namespace), service);
  }

  getService(namespace: string, name: string): Promise<unknown> {
    return this.#json('getService', 'GET', `${servicesPath(namespace)}/${segment(name)}`);
  }

  deleteService(namespace: string, name: string): Promise<WriteResult> {
    return this.#write('deleteService', 'DELETE', `${servicesPath(namespace)}/${segment(name)}`);
  }

  getNode(name: string): Promise<unknown> {
    return this.#json('getNode', 'GET', nodePath(name));
  }

  nodeStatsSummary(node: string): Promise<unknown> {
    return this.#json('nodeStatsSummary', 'GET', `${nodePath(node)}/proxy/stats/summary`);
  }

  podMetrics(namespace: string, name: string): Promise<unknown> {
    return this.#json('podMetrics', 'GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${segment(namespace)}/pods/${segment(name)}`);
  }

  async componentMetrics(of: { component: 'apiserver' } | { component: 'kubelet'; node: string }, options: { protobuf?: boolean } = {}): Promise<MetricsBody> {
    const path = of.component === 'apiserver' ? '/metrics' : `${nodePath(of.node)}/proxy/metrics`;
    // Unencoded: asked for gzip (fetch asks by default), the component compresses megabytes of text
    // (the API server's 2.6-4 MB) that the client then inflates: ~25 ms more for the API server's.
    const traced = this.#traced(`${of.component}Metrics`).headers;
    const accept = options.protobuf ? PROTOBUF_OR_TEXT : 'text/plain';
    const { status, contentType, bytes } = await this.transport.getLarge(path, { accept, headers: { 'Accept-Encoding': 'identity', ...traced } });
    const text = (): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    if (status < 200 || status > 299) throw this.#failure(status, parseBody(text()));
    if (options.protobuf && isProtobufExposition(contentType)) return { format: 'protobuf', bytes };
    return { format: 'text', text: text() };
  }

  kubeletConfig(node: string): Promise<unknown> {
    return this.#json('kubeletConfig', 'GET', `${nodePath(node)}/proxy/configz`);
  }

  async list(what: WatchedResource, selectors: Selectors): Promise<ObjectList> {
    const body = await this.#json(undefined, 'GET', collectionPath(what), { query: { fieldSelector: selectors.fieldSelector, labelSelector: selectors.labelSelector } });
    const list = (isObject(body) ? body : {}) as { metadata?: { resourceVersion?: unknown }; items?: unknown };
    const resourceVersion = list.metadata?.resourceVersion;
    return {
      resourceVersion: typeof resourceVersion === 'string' ? resourceVersion : undefined,
      items: Array.isArray(list.items) ? list.items : [],
    };
  }

  watch(what: WatchedResource, query: WatchQuery, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<WatchHandle> {
    const params: QueryParams = {
      fieldSelector: query.fieldSelector,
      labelSelector: query.labelSelector,
      allowWatchBookmarks: query.allowWatchBookmarks,
      resourceVersion: query.resourceVersion,
    };
    return this.transport.watch(collectionPath(what), params, onEvent, (error) => onDone(this.#translate(error)));
  }

  traceRequests(tracer: RequestTracer | undefined): void {
    this.#tracer = tracer;
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** The trace context headers of one call, when requests are traced. */
  #traced(call: string | undefined): { headers?: Record<string, string> } {
    if (call === undefined || this.#tracer === undefined) return {};
    const { traceparent, auditId } = this.#tracer(call);
    return { headers: { traceparent, 'Audit-ID': auditId } };
  }

  async #json(call: string | undefined, verb: HttpVerb, path: string, options: { query?: QueryParams; body?: unknown } = {}): Promise<unknown> {
    return (await this.#request(call, verb, path, options)).object;
  }

  #write(call: string, verb: HttpVerb, path: string, body?: unknown): Promise<WriteResult> {
    return this.#request(call, verb, path, body === undefined ? {} : { body });
  }

  async #request(call: string | undefined, verb: HttpVerb, path: string, options: { query?: QueryParams; body?: unknown }): Promise<WriteResult> {
    const { status, text } = await this.transport.send(verb, path, { ...options, accept: 'application/json', ...this.#traced(call) });
    const object = parseBody(text);
    if (status < 200 || status > 299) throw this.#failure(status, object);
    return { status, object };
  }

  /** 401 is the credentials' fault whatever was asked; the rest is the caller's to read (by kind). */
  #failure(status: number, body: unknown): Error {
    const error = KubeApiError.fromResponse(status, body);
    return connectionFailure(error, this.target.server) ?? error;
  }

  #translate(error: unknown): unknown {
    return error instanceof KubeApiError ? (connectionFailure(error, this.target.server) ?? error) : error;
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}
