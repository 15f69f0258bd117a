/** The parts every cause is made of (cause.ts, cause-scheduling.ts): the record itself, and a probe as set, in words. Pure. */
import type { Cause, CauseCode } from './cause-types.js';

export function cause(code: CauseCode, chain: Array<string | undefined | false>, hint: string, evidence: Array<string | undefined | false>): Cause {
  return { code, chain: chain.filter((x): x is string => typeof x === 'string' && x !== ''), hint, evidence: evidence.filter((x): x is string => typeof x === 'string' && x !== '') };
}

/** A probe as set, in a few words: "TCP port 80, every 10 s, after 5 s". */
export function describeProbe(probe: unknown): string | undefined {
  const p = probeSummary(probe);
  return p ? `${p.target}, every ${p.period} s${p.delay ? `, after ${p.delay} s` : ''}${p.threshold !== 3 ? `, failureThreshold ${p.threshold}` : ''}` : undefined;
}

export function probeSummary(probe: unknown): { target: string; period: number; threshold: number; delay: number; timeout: number } | undefined {
  if (probe === null || typeof probe !== 'object') return undefined;
  const p = probe as {
    httpGet?: { path?: string; port?: number | string };
    tcpSocket?: { port?: number | string };
    grpc?: { port?: number };
    exec?: { command?: string[] };
    periodSeconds?: number;
    failureThreshold?: number;
    initialDelaySeconds?: number;
    timeoutSeconds?: number;
  };
  const target = p.httpGet
    ? `HTTP GET ${p.httpGet.path ?? '/'} on port ${String(p.httpGet.port)}`
    : p.tcpSocket
      ? `TCP port ${String(p.tcpSocket.port)}`
      : p.grpc
        ? `gRPC port ${String(p.grpc.port)}`
        : p.exec
          ? `exec ${(p.exec.command ?? []).join(' ')}`
          : 'its check';
  return { target, period: p.periodSeconds ?? 10, threshold: p.failureThreshold ?? 3, delay: p.initialDelaySeconds ?? 0, timeout: p.timeoutSeconds ?? 1 };
}

/** What a failed probe's message says the trouble is, as advice. */
export function probeAdvice(message: string | undefined, target: string): string {
  if (message === undefined) return `check ${target}`;
  if (/connection refused/.test(message)) return `nothing listens there (connection refused): point the probe at the port the app serves, or make the app listen on it`;
  if (/statuscode: (\d+)/i.test(message)) return `the app answers with HTTP ${/statuscode: (\d+)/i.exec(message)![1]}: check the probe's path, or why the app says it is not healthy`;
  if (/timeout|deadline exceeded/i.test(message)) return `the app does not answer within the probe's timeoutSeconds: raise it, or look at why the app is slow to answer`;
  return `read the probe's message and check ${target}`;
}

