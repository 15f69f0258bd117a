/**
 * --expose, beyond the EndpointSlice: when a connection to the Service's cluster IP first reaches
 * the pod (kube-proxy has programmed its rules), and when the Service's name first resolves
 * through the cluster's DNS Service, both tried from podtrace's own machine (the vantage point the
 * trace names). Each try is recorded with when it started, so the trace can place the change
 * between the last try that failed and the first that worked. On kind or minikube the cluster IPs
 * usually do not route from the machine podtrace runs on: the tries fail, and the trace says so.
 */
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import { pause } from '../stop.js';
import type { RunState } from './state.js';

/** Between the starts of two tries. */
export const REACH_INTERVAL_MS = 100;
/** A try that has no answer by then failed (a cluster IP that does not route drops the SYN). */
const TRY_TIMEOUT_MS = 500;
/** After the pod's outcome, how long the tries may go on before the teardown. */
export const REACH_GRACE_MS = 15_000;

export type ReachWhat = 'route' | 'dns';

export interface ReachTargets {
  /** The Service's cluster IP and port (route). */
  clusterIP?: string;
  port: number;
  /** The cluster DNS Service's cluster IP, and the name to resolve (dns). */
  dnsServer?: string;
  name: string;
  /** Whether kube-system/kube-dns exists: a pod's resolver needs no address, only a DNS that may exist. */
  clusterDns: 'found' | 'absent' | 'unknown';
}

/** One TCP connect to host:port; undefined when it connected, else why not. */
export function tryConnect(host: string, port: number, timeoutMs = TRY_TIMEOUT_MS): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (error: string | undefined): void => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

/** One A query for name to server; undefined when it answered with `expected`, else what it answered. */
export async function tryResolve(server: string, name: string, expected: string, timeoutMs = TRY_TIMEOUT_MS): Promise<string | undefined> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([server]);
  try {
    const addresses = await resolver.resolve4(name);
    return addresses.includes(expected) ? undefined : `answered ${addresses.join(', ') || 'nothing'}`;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  } finally {
    resolver.cancel();
  }
}

/** Tries until one works or `signal` ends it; records the outcome as one `service-reach` observation. */
async function tryUntil(state: RunState, what: ReachWhat, target: string, attempt: () => Promise<string | undefined>, signal: AbortSignal): Promise<void> {
  const { log } = state;
  const clock = log.clock;
  let attempts = 0;
  let previousAttemptAt: number | undefined;
  let lastError: string | undefined;
  while (!signal.aborted) {
    const attemptAt = clock.now();
    attempts++;
    const error = await attempt();
    if (error === undefined) {
      log.client('service-reach', { vantage: 'client', what, target, ok: true, attempts, attemptAt, ...(previousAttemptAt !== undefined ? { previousAttemptAt } : {}) });
      return;
    }
    lastError = error;
    previousAttemptAt = attemptAt;
    await pause(Math.max(0, REACH_INTERVAL_MS - (clock.now() - attemptAt)), signal);
  }
  log.client('service-reach', { vantage: 'client', what, target, ok: false, attempts, ...(lastError !== undefined ? { error: lastError } : {}) });
}

/** Both tries, from the client; resolves when each has worked or `signal` ended them. */
export async function reachFromClient(state: RunState, targets: ReachTargets, signal: AbortSignal): Promise<void> {
  const runs: Array<Promise<void>> = [];
  const { clusterIP, port, dnsServer, name } = targets;
  if (clusterIP !== undefined && clusterIP !== 'None') {
    runs.push(tryUntil(state, 'route', `${clusterIP}:${port}`, () => tryConnect(clusterIP, port), signal));
    if (dnsServer !== undefined) runs.push(tryUntil(state, 'dns', `${name} @ ${dnsServer}`, () => tryResolve(dnsServer, name, clusterIP), signal));
  }
  await Promise.all(runs);
}
