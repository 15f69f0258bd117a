import { AuthError, UnreachableError } from '../errors.js';
import { KubeApiError } from './errors.js';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'DNS lookup failed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/** The errno-style code at the bottom of a fetch failure (`TypeError: fetch failed` → cause → code). */
export function networkErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    // Node reports a refused dual-stack connect (::1 and 127.0.0.1) as an AggregateError.
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      current = errors[0];
      continue;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function innermostMessage(error: unknown): string {
  let current: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  const seen = new Set<unknown>();
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    if (current.message) message = current.message;
    current = current.cause;
  }
  return message;
}

/**
 * Turns a failure to talk to the API server into the error the person sees, or
 * returns undefined when it is not a connection or credential problem.
 */
export function connectionFailure(error: unknown, server: string): UnreachableError | AuthError | undefined {
  if (error instanceof UnreachableError || error instanceof AuthError) return error;
  if (error instanceof KubeApiError) {
    if (error.status === 401) {
      return new AuthError(
        `the API server at ${server} rejected the credentials (401 Unauthorized): they are expired or invalid; refresh your kubeconfig credentials`,
      );
    }
    return undefined;
  }
  const code = networkErrorCode(error);
  const isFetchFailure = error instanceof TypeError && /fetch failed/i.test(error.message);
  if (code && TLS_CODES.has(code)) {
    return new UnreachableError(
      `TLS handshake with the API server at ${server} failed: ${innermostMessage(error)} (${code}); check certificate-authority in your kubeconfig`,
      server,
      { cause: error },
    );
  }
  if (code && code in NETWORK_CODES) {
    return new UnreachableError(
      `cannot reach the API server at ${server}: ${NETWORK_CODES[code]} (${code}); is the cluster running?`,
      server,
      { cause: error },
    );
  }
  if (isFetchFailure || (code && /^(E[A-Z]+|UND_ERR_[A-Z_]+|ERR_TLS_.*|ERR_SSL_.*)$/.test(code))) {
    return new UnreachableError(
      `cannot reach the API server at ${server}: ${innermostMessage(error)}${code ? ` (${code})` : ''}`,
      server,
      { cause: error },
    );
  }
  return undefined;
}
