/**
 * What the API server answered when it did not say yes. Every call of the
 * cluster API (cluster-api.ts) translates failures once: a connection or TLS
 * failure is UnreachableError (exit 4), a 401 is AuthError (exit 6), and any
 * other non-2xx answer is a KubeApiError whose `kind` says what it means, so
 * callers never compare raw statuses.
 */

export type KubeErrorKind = 'forbidden' | 'not-found' | 'conflict' | 'gone' | 'invalid' | 'other';

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

  get kind(): KubeErrorKind {
    switch (this.status) {
      case 403:
        return 'forbidden';
      case 404:
        return 'not-found';
      case 409:
        return 'conflict';
      case 410:
        return 'gone';
      case 422:
        return 'invalid';
      default:
        return 'other';
    }
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

/** True for an answer of this kind (a 404 from a DELETE: already gone). */
export function isKubeError(error: unknown, kind: KubeErrorKind): error is KubeApiError {
  return error instanceof KubeApiError && error.kind === kind;
}

/** One line for logs, notes and recorded errors: "404 NotFound: pods "x" not found", or the error's message. */
export function describeKubeError(error: unknown): string {
  if (error instanceof KubeApiError) return `${error.status} ${error.reason}: ${error.message}`;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  const message = error instanceof Error ? error.message : String(error);
  return typeof status === 'number' ? `${status} ${message}` : message;
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
