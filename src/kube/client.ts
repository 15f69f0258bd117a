// Deep imports: the package root also loads every generated API class and model
// (several MB), which podtrace never uses; its few typed calls are plain requests.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { IsomorphicFetchHttpLibrary } from '@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js';
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import { KubeconfigError } from '../errors.js';
import { loadKubeconfig, type KubeTarget } from './kubeconfig.js';
import { connectionFailure } from './network-errors.js';
import {
  KubeApiError,
  type AccessReviewRequest,
  type AccessReviewResult,
  type HttpVerb,
  type KubeClient,
  type KubeClientRequest,
  type NamespaceStatus,
  type QueryParams,
  type RawResponse,
  type SelfSubjectReviewResult,
  type WatchDoneHandler,
  type WatchEventHandler,
  type WatchHandle,
} from './types.js';

const USER_AGENT = 'podtrace';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * client-node 2.x builds a new undici Agent (so a new TLS connection) for every
 * request and every watch. Keeping the first one and handing it to every later
 * request gives one keep-alive pool for the whole run, so the timings measure the
 * API server rather than TLS handshakes.
 */
class SharedConnectionKubeConfig extends KubeConfig {
  #dispatcher: Dispatcher | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return; // undici's global keep-alive dispatcher is used: already shared.
    if (this.#dispatcher === undefined) {
      this.#dispatcher = fresh;
    } else if (fresh !== this.#dispatcher) {
      void fresh.close().catch(() => {});
      context.setDispatcher(this.#dispatcher);
    }
  }

  async closeConnections(): Promise<void> {
    const dispatcher = this.#dispatcher;
    this.#dispatcher = undefined;
    await dispatcher?.destroy().catch(() => {});
  }
}

/** The production KubeFactory: loads kubeconfig (no network) and returns a client bound to it. */
export async function createKubeClient(request: KubeClientRequest): Promise<KubeClient> {
  const loaded = loadKubeconfig(request);
  const kubeConfig = new SharedConnectionKubeConfig();
  kubeConfig.loadFromOptions({
    clusters: loaded.kubeConfig.getClusters(),
    users: loaded.kubeConfig.getUsers(),
    contexts: loaded.kubeConfig.getContexts(),
    currentContext: loaded.kubeConfig.getCurrentContext(),
  });
  return new ClientNodeKubeClient(kubeConfig, loaded.target);
}

class ClientNodeKubeClient implements KubeClient {
  readonly #kc: SharedConnectionKubeConfig;
  readonly #http = new IsomorphicFetchHttpLibrary();
  readonly #watch: Watch;
  readonly #openWatches = new Set<AbortController>();

  constructor(
    kubeConfig: SharedConnectionKubeConfig,
    readonly target: KubeTarget,
  ) {
    this.#kc = kubeConfig;
    this.#watch = new Watch(kubeConfig);
  }

  async resolveCredentials(): Promise<{ durationMs: number; method: KubeTarget['authMethod'] }> {
    const started = performance.now();
    try {
      await this.#kc.applySecurityAuthentication(new RequestContext(this.target.server, HttpMethod.GET));
    } catch (error) {
      throw new KubeconfigError(
        `could not get credentials for user "${this.target.user}" (${this.target.authMethod}): ${firstLine(error)}`,
        { cause: error },
      );
    }
    return { durationMs: performance.now() - started, method: this.target.authMethod };
  }

  async serverVersion(): Promise<{ gitVersion: string; platform: string }> {
    const { body } = await this.request('GET', '/version');
    const info = (body ?? {}) as { gitVersion?: string; platform?: string };
    return { gitVersion: info.gitVersion ?? '', platform: info.platform ?? '' };
  }

  async selfSubjectReview(): Promise<SelfSubjectReviewResult> {
    const { body } = await this.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
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

  async accessReview(request: AccessReviewRequest): Promise<AccessReviewResult> {
    const { body } = await this.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: request.verb, resource: request.resource, namespace: request.namespace } },
      },
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

  async namespaceStatus(namespace: string): Promise<NamespaceStatus> {
    try {
      await this.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}`);
      return 'exists';
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return 'not-found';
      if (error instanceof KubeApiError && error.status === 403) return 'forbidden';
      throw error;
    }
  }

  async request(verb: HttpVerb, path: string, options: { query?: QueryParams; body?: unknown } = {}): Promise<RawResponse> {
    const { status, text } = await this.#send(verb, path, options, 'application/json');
    const body = parseBody(text);
    if (status < 200 || status > 299) throw KubeApiError.fromResponse(status, body);
    return { status, body };
  }

  async requestText(path: string, query: QueryParams = {}): Promise<string> {
    const { status, text } = await this.#send('GET', path, { query }, 'text/plain, application/json');
    if (status < 200 || status > 299) throw KubeApiError.fromResponse(status, parseBody(text));
    return text;
  }

  async #send(verb: HttpVerb, path: string, options: { query?: QueryParams; body?: unknown }, accept: string): Promise<{ status: number; text: string }> {
    const url = new URL(this.target.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const context = new RequestContext(url.toString(), verb as HttpMethod);
    context.setHeaderParam('Accept', accept);
    context.setHeaderParam('User-Agent', USER_AGENT);
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    let status: number;
    let text: string;
    try {
      await this.#kc.applySecurityAuthentication(context);
      const response = await this.#http.send(context).toPromise();
      status = response.httpStatusCode;
      text = await response.body.text();
    } catch (error) {
      throw connectionFailure(error, this.target.server) ?? error;
    }
    return { status, text };
  }

  async watch(path: string, query: QueryParams, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<WatchHandle> {
    let controller: AbortController | undefined;
    let ended = false;
    const done: WatchDoneHandler = (error) => {
      ended = true;
      if (controller) this.#openWatches.delete(controller);
      onDone(normalizeWatchError(error));
    };
    // client-node reports a failed connect through `done` before this resolves.
    controller = await this.#watch.watch(path, query, (type, object) => onEvent(type, object), done);
    const opened = controller;
    if (!ended) this.#openWatches.add(opened);
    return {
      abort: () => {
        this.#openWatches.delete(opened);
        opened.abort();
      },
    };
  }

  async close(): Promise<void> {
    for (const controller of this.#openWatches) controller.abort();
    this.#openWatches.clear();
    await this.#kc.closeConnections();
  }

}

/** client-node ends a watch refused by the server (403, 401, 410 ...) with a bare Error carrying statusCode. */
function normalizeWatchError(error: unknown): unknown {
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && !(error instanceof KubeApiError)) {
    return KubeApiError.fromResponse(statusCode, (error as Error).message);
  }
  return error;
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}
