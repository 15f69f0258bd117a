/**
 * `podtrace probe`: a synthetic check of pod start-up that runs all the time. Every `--every`
 * (jittered by up to a tenth either way) it creates the pod, traces it and deletes it, as
 * `podtrace create` does; rounds never overlap (a round still running when the next is due delays
 * it, and the delay is counted). It serves what it measured on `--listen`: OpenMetrics on
 * /metrics (report/openmetrics.ts), /healthz, and the last traces as JSON on /traces/latest.
 * A round that fails is counted under its class and logged in one line; the probe goes on. At
 * start it deletes the pods an earlier probe of the same name left (by their label).
 */
import { createServer, type Server } from 'node:http';
import { exitCodeFor, pause, StopController } from '../collect/stop.js';
import { describeFailure, ListenError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { isKubeError } from '../kube/errors.js';
import { ProbeMetrics } from '../report/openmetrics.js';
import { schedulableNodes } from '../collect/schedulable-nodes.js';
import type { Trace } from '../trace/types.js';
import { openKubeClient, signalsOf, type CommandContext } from './context.js';
import { planCreate, type CreateInput } from './create-plan.js';
import { favourSmallHeap } from './heap.js';
import { runOnce } from './create-run.js';
import type { CreateOptions } from './option-tables.js';
import type { ProbeOptions } from './probe-options.js';
import { primaryImage } from './pod-manifest.js';
import { pushOtlp } from './otlp-push.js';

/** The label on every pod of a probe: its name, so a later probe of that name cleans up after it. */
export const PROBE_LABEL = 'podtrace.dev/probe';

export interface ProbeInput {
  image?: string;
  args: string[];
  options: ProbeOptions;
}

/** The create options of one round, from the probe's. */
function createOptions(o: ProbeOptions): CreateOptions {
  return {
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.context !== undefined ? { context: o.context } : {}),
    ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
    ...(o.file !== undefined ? { file: o.file } : {}),
    ...(o.pullPolicy !== undefined ? { pullPolicy: o.pullPolicy } : {}),
    ...(o.requests !== undefined ? { requests: o.requests } : {}),
    ...(o.limits !== undefined ? { limits: o.limits } : {}),
    ...(o.readiness !== undefined ? { readiness: o.readiness } : {}),
    env: o.env,
    command: false,
    nodeSelector: o.nodeSelector,
    perNode: false,
    timeoutMs: o.timeoutMs,
    keep: false,
    output: 'json',
    quiet: true,
    gates: [],
    metrics: false,
    debug: o.debug,
  };
}

/** `:9464`, `127.0.0.1:9464`, `[::1]:9464`. */
export function parseListen(text: string): { host?: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new UsageError(`--listen ${text}: give HOST:PORT or :PORT, e.g. --listen :9464 or --listen 127.0.0.1:9464`);
  const host = m[1] ?? m[2];
  return { ...(host ? { host } : {}), port };
}

function listen(server: Server, where: { host?: string; port: number }, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ListenError(`cannot listen on ${text}: ${error.code === 'EADDRINUSE' ? 'the address is in use' : (error.code ?? error.message)}; choose another --listen`)),
    );
    server.listen(where.port, where.host, () => resolve());
  });
}

export async function run(input: ProbeInput, ctx: CommandContext): Promise<number> {
  const { options } = input;
  const probeName = options.name;
  const createInput: CreateInput = { ...(input.image !== undefined ? { image: input.image } : {}), args: input.args, options: createOptions(options) };
  // checked once before anything starts: a bad image or manifest is a usage error, not a failing round
  const first = planCreate(createInput, { now: ctx.clock.now() });
  const image = primaryImage(first.manifest) ?? input.image ?? '';
  const metrics = new ProbeMetrics([image]);
  favourSmallHeap();
  const latest: Trace[] = [];

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (url === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' }).end(metrics.render());
    } else if (url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    } else if (url === '/traces/latest') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(latest)}\n`);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('podtrace probe serves /metrics, /healthz and /traces/latest\n');
    }
  });
  await listen(server, parseListen(options.listen), options.listen);
  const { source, exit } = signalsOf(ctx);
  const stop = new StopController(source, exit);
  const log = (line: string): void => void ctx.stderr.write(`podtrace probe: ${line}\n`);
  log(`serving /metrics, /healthz and /traces/latest on ${options.listen}; a round every ${options.everyMs / 1000}s (±10 %)`);
  try {
    await cleanUp(createInput, probeName, ctx, log);
    let due = ctx.clock.now();
    let round = 0;
    while (!stop.signal.aborted) {
      const next = nextRound(due, ctx.clock.now(), options.everyMs);
      metrics.roundStarted(next.lateMs);
      due = next.nextDue;
      const nodes = options.perNode ? await nodesForRound(createInput, ctx, log) : [undefined];
      for (const node of nodes) {
        if (stop.signal.aborted) break;
        await oneRun(createInput, probeName, round, node, ctx, stop, metrics, latest, options, log);
      }
      round++;
      // a round that overran its interval: the next starts when it ends, and is counted as late
      await pause(Math.max(0, due - ctx.clock.now()), stop.signal);
    }
  } finally {
    stop.dispose();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return stop.stoppedBy ? exitCodeFor(stop.stoppedBy) : EXIT.ok;
}

/** Late by less than this is the timer's slack, not a round delayed by the one before. */
const LATE_MS = 1000;

/**
 * A round starting at `now` that was due at `due`: how late it is (0 within LATE_MS), and when the
 * next is due, an interval (jittered by up to a tenth either way) after this one was due or, when
 * it started late, after it started: a late round moves the schedule, the rounds after it do not
 * run back to back to catch up.
 */
export function nextRound(due: number, now: number, everyMs: number, random: () => number = Math.random): { lateMs: number; nextDue: number } {
  const lateMs = now - due > LATE_MS ? now - due : 0;
  const jitter = 1 + (random() * 2 - 1) * 0.1;
  return { lateMs, nextDue: (lateMs > 0 ? now : due) + everyMs * jitter };
}

async function oneRun(
  input: CreateInput,
  probeName: string,
  round: number,
  node: string | undefined,
  ctx: CommandContext,
  stop: StopController,
  metrics: ProbeMetrics,
  latest: Trace[],
  options: ProbeOptions,
  log: (line: string) => void,
): Promise<void> {
  const startedAt = ctx.clock.now();
  try {
    const plan = planCreate(input, { now: startedAt }, 0, node);
    plan.manifest.metadata.labels = { ...(plan.manifest.metadata.labels ?? {}), [PROBE_LABEL]: probeName };
    const result = await runOnce(plan, ctx, startedAt, stop);
    metrics.addRun(result.trace, ctx.clock.now());
    latest.push(result.trace);
    if (latest.length > options.history) latest.splice(0, latest.length - options.history);
    const ready = result.trace.outcome.readyAfterMs;
    log(`round ${round + 1}${node ? ` on ${node}` : ''}: ${result.trace.outcome.class}${ready !== undefined ? ` in ${Math.round(ready)} ms` : ''} (${result.trace.pod.name})`);
    if (options.exportOtlp !== undefined) log(await pushOtlp(options.exportOtlp, [result.trace], `${probeName} round ${round + 1}`));
  } catch (error) {
    // the cluster away, credentials refused: counted under the error's kind, and the probe goes on
    const failure = describeFailure(error, false);
    metrics.countOutcome(errorClass(failure.exitCode));
    log(`round ${round + 1}${node ? ` on ${node}` : ''}: ${errorClass(failure.exitCode)}: ${failure.message}`);
  }
}

/** The class of an error that ended a round before any trace, from its exit code. */
function errorClass(code: number): string {
  switch (code) {
    case EXIT.unreachable:
      return 'unreachable';
    case EXIT.unauthenticated:
      return 'unauthenticated';
    case EXIT.kubeconfig:
      return 'kubeconfig';
    case EXIT.namespaceNotFound:
      return 'namespace-not-found';
    case EXIT.forbidden:
      return 'forbidden';
    default:
      return 'error';
  }
}

/** --kubeconfig, --context and -n, as openKubeClient takes them. */
function kubeOptions(o: CreateOptions): { kubeconfig?: string; context?: string; namespace?: string } {
  return {
    ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
    ...(o.context !== undefined ? { context: o.context } : {}),
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
  };
}

/** The pods an earlier probe of this name left behind (killed mid-round): deleted at start. */
async function cleanUp(input: CreateInput, probeName: string, ctx: CommandContext, log: (line: string) => void): Promise<void> {
  const o = input.options;
  try {
    const api = await openKubeClient(kubeOptions(o), ctx);
    try {
      const { items } = await api.list({ resource: 'pods', namespace: api.target.namespace }, { labelSelector: `${PROBE_LABEL}=${probeName}` });
      for (const pod of items) {
        const name = (pod as { metadata?: { name?: string } }).metadata?.name;
        if (!name) continue;
        await api.deletePod(api.target.namespace, name).catch((error: unknown) => {
          if (!isKubeError(error, 'not-found')) throw error;
        });
        log(`deleted ${name}, left by an earlier probe`);
      }
    } finally {
      await api.close().catch(() => {});
    }
  } catch (error) {
    log(`could not clean up after earlier probes: ${describeFailure(error, false).message}`);
  }
}

async function nodesForRound(input: CreateInput, ctx: CommandContext, log: (line: string) => void): Promise<Array<string | undefined>> {
  const o = input.options;
  try {
    const api = await openKubeClient(kubeOptions(o), ctx);
    try {
      return await schedulableNodes(api, []);
    } finally {
      await api.close().catch(() => {});
    }
  } catch (error) {
    log(`--per-node: could not list the nodes (${describeFailure(error, false).message}): one pod this round`);
    return [undefined];
  }
}
