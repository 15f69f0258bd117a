// Deep imports: the package root also loads every generated API class and model
// (several MB), which podtrace never uses; its few typed calls are plain requests.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { IsomorphicFetchHttpLibrary } from '@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js';
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import { KubeApiError } from './errors.js';
import type { LoadedKubeconfig } from './kubeconfig.js';
import { connectionFailure } from './network-errors.js';
import type { WatchDoneHandler, WatchEventHandler, WatchHandle } from './types.js';

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

export type HttpVerb = 'GET' | 'POST' | 'DELETE';
export type QueryParams = Record<string, string | number | boolean | undefined>;

export interface SendOptions {
  query?: QueryParams;
  body?: unknown;
  accept: string;
  headers?: Readonly<Record<string, string>>;
}

/** What getLarge answers: the status, the body's Content-Type ('' when none) and its bytes. */
export interface LargeAnswer {
  status: number;
  contentType: string;
  bytes: Uint8Array;
}

/** HTTP to the API server: what cluster-api.ts builds its typed calls on. */
export interface Transport {
  readonly server: string;
  /** Applies the credentials once (runs an exec plugin, reads a token file). */
  applyCredentials(): Promise<void>;
  /** One request; connection and TLS failures throw UnreachableError (or AuthError), any status resolves. */
  send(verb: HttpVerb, path: string, options: SendOptions): Promise<{ status: number; text: string }>;
  /** A GET of a large body (a component's /metrics: megabytes, of which a few series are read), as bytes; failures as send's. */
  getLarge(path: string, options: SendOptions): Promise<LargeAnswer>;
  /** One watch stream; a refusal ends it through onDone with a KubeApiError. */
  watch(path: string, query: QueryParams, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<WatchHandle>;
  close(): Promise<void>;
}

/** The transport over client-node, for a kubeconfig already loaded and checked (no network yet). */
export function clientNodeTransport(loaded: LoadedKubeconfig): Transport {
  const kubeConfig = new SharedConnectionKubeConfig();
  kubeConfig.loadFromOptions({
    clusters: loaded.kubeConfig.getClusters(),
    users: loaded.kubeConfig.getUsers(),
    contexts: loaded.kubeConfig.getContexts(),
    currentContext: loaded.kubeConfig.getCurrentContext(),
  });
  return new ClientNodeTransport(kubeConfig, loaded.target.server);
}

class ClientNodeTransport implements Transport {
  readonly #kc: SharedConnectionKubeConfig;
  readonly #http = new IsomorphicFetchHttpLibrary();
  readonly #watch: Watch;
  readonly #openWatches = new Set<AbortController>();

  constructor(
    kubeConfig: SharedConnectionKubeConfig,
    readonly server: string,
  ) {
    this.#kc = kubeConfig;
    this.#watch = new Watch(kubeConfig);
  }

  async applyCredentials(): Promise<void> {
    await this.#kc.applySecurityAuthentication(new RequestContext(this.server, HttpMethod.GET));
  }

  send(verb: HttpVerb, path: string, options: SendOptions): Promise<{ status: number; text: string }> {
    return this.#retrying(verb, path, async () => this.#fetch(await this.#context(verb, path, options)));
  }

  getLarge(path: string, options: SendOptions): Promise<LargeAnswer> {
    return this.#retrying('GET', path, () => this.#getLargeOnce(path, options));
  }

  async #retrying<T>(verb: HttpVerb, path: string, once: () => Promise<T>): Promise<T> {
    try {
      return await once();
    } catch (error) {
      // The API server ends an HTTP/2 connection (GOAWAY) after refusing a
      // request's credentials, and when it rebalances (--goaway-chance); undici
      // then fails the other requests still on that connection without their
      // answers. A request that changes nothing is sent again, on a new connection.
      if (!(isGoaway(error) && changesNothing(verb, path))) throw connectionFailure(error, this.server) ?? error;
      try {
        return await once();
      } catch (again) {
        throw connectionFailure(again, this.server) ?? again;
      }
    }
  }

  /**
   * On the shared connection's dispatcher, without fetch: fetch hands a body through web streams,
   * which took twice the CPU time for the API server's /metrics (90 ms for its 2.6 MB where
   * `request` took 42), on the event loop that is about to send the POST.
   */
  async #getLargeOnce(path: string, options: SendOptions): Promise<LargeAnswer> {
    const context = await this.#context('GET', path, options);
    const dispatcher = context.getDispatcher();
    // no TLS settings of its own (plain HTTP, or the system's CAs): fetch, on undici's global dispatcher
    if (dispatcher === undefined) {
      const response = await this.#http.send(context).toPromise();
      return { status: response.httpStatusCode, contentType: response.headers['content-type'] ?? '', bytes: await response.body.binary() };
    }
    const url = new URL(context.getUrl());
    const response = await dispatcher.request({ origin: url.origin, path: url.pathname + url.search, method: 'GET', headers: context.getHeaders() });
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    const contentType = response.headers['content-type'];
    return { status: response.statusCode, contentType: typeof contentType === 'string' ? contentType : '', bytes: Buffer.concat(chunks) };
  }

  async #fetch(context: RequestContext): Promise<{ status: number; text: string }> {
    const response = await this.#http.send(context).toPromise();
    return { status: response.httpStatusCode, text: await response.body.text() };
  }

  /** The request with its query, headers, body and credentials (and the shared connection's dispatcher). */
  async #context(verb: HttpVerb, path: string, options: SendOptions): Promise<RequestContext> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const context = new RequestContext(url.toString(), verb as HttpMethod);
    context.setHeaderParam('Accept', options.accept);
    context.setHeaderParam('User-Agent', USER_AGENT);
    for (const [name, value] of Object.entries(options.headers ?? {})) context.setHeaderParam(name, value);
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    await this.#kc.applySecurityAuthentication(context);
    return context;
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

/** undici's failure of a request whose HTTP/2 connection the server closed with GOAWAY. */
export function isGoaway(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current: unknown = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (/"GOAWAY" frame received/.test(current.message)) return true;
  }
  return false;
}

/** GETs, and the POSTs that only ask (reviews of identity and access): safe to send twice. */
export function changesNothing(verb: HttpVerb, path: string): boolean {
  return verb === 'GET' || (verb === 'POST' && /^\/apis\/(authentication|authorization)\.k8s\.io\/v1\/(namespaces\/[^/]+\/)?(self|local)?subject[a-z]*reviews$/.test(path));
}
