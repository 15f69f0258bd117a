/**
 * The seam between commands/watchers and @kubernetes/client-node. Nothing here
 * imports the client, so tests can hand commands a fake without loading it.
 */
import type { AuthMethod, KubeTarget } from './kubeconfig.js';

export type { AuthMethod, KubeTarget };

export type HttpVerb = 'GET' | 'POST' | 'DELETE';
export type QueryParams = Record<string, string | number | boolean | undefined>;

export interface RawResponse {
  status: number;
  /** The parsed JSON body, exactly as the server sent it. */
  body: unknown;
}

export interface WatchHandle {
  abort(): void;
}

/** `type` is the watch event type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR). */
export type WatchEventHandler = (type: string, object: unknown) => void;
/** Called once when the stream ends: `error` is null for a clean close. */
export type WatchDoneHandler = (error: unknown) => void;

export interface SelfSubjectReviewResult {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface AccessReviewRequest {
  verb: string;
  resource: string;
  namespace: string;
}

export interface AccessReviewResult {
  allowed: boolean;
  denied: boolean;
  reason: string;
  evaluationError: string;
}

export type NamespaceStatus = 'exists' | 'not-found' | 'forbidden';

export interface KubeClient {
  readonly target: KubeTarget;
  /** Runs whatever produces credentials (exec plugins, token files) once and times it. */
  resolveCredentials(): Promise<{ durationMs: number; method: AuthMethod }>;
  serverVersion(): Promise<{ gitVersion: string; platform: string }>;
  selfSubjectReview(): Promise<SelfSubjectReviewResult>;
  accessReview(request: AccessReviewRequest): Promise<AccessReviewResult>;
  namespaceStatus(namespace: string): Promise<NamespaceStatus>;
  /** A JSON request whose response body is kept exactly as sent; non-2xx throws KubeApiError. */
  request(verb: HttpVerb, path: string, options?: { query?: QueryParams; body?: unknown }): Promise<RawResponse>;
  /** A GET whose answer is text (a container log); non-2xx throws KubeApiError. */
  requestText(path: string, query?: QueryParams): Promise<string>;
  /** Opens one watch stream; resolves once the server answered (or onDone already ran). */
  watch(path: string, query: QueryParams, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<WatchHandle>;
  /** Closes the shared connection pool. */
  close(): Promise<void>;
}

export interface KubeClientRequest {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** How a command gets its client; injected by tests, lazily loaded in production. */
export type KubeFactory = (request: KubeClientRequest) => Promise<KubeClient>;

/** An HTTP-level error from the API server, with the Status object's fields pulled out. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details: unknown,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  static fromResponse(status: number, body: unknown): KubeApiError {
    const statusObject = isRecord(body) && body['kind'] === 'Status' ? body : undefined;
    const reason = typeof statusObject?.['reason'] === 'string' ? statusObject['reason'] : defaultReason(status);
    const message =
      typeof statusObject?.['message'] === 'string'
        ? statusObject['message']
        : typeof body === 'string' && body.trim() !== ''
          ? body.trim().slice(0, 300)
          : `HTTP ${status}`;
    return new KubeApiError(status, reason, message, statusObject?.['details'], body);
  }
}

function defaultReason(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'AlreadyExists';
    case 410:
      return 'Expired';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    default:
      return status >= 500 ? 'InternalError' : 'Unknown';
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
