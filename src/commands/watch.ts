/**
 * `podtrace watch -l SELECTOR`: traces every pod that appears matching the
 * selector (a Deployment rollout, a Job) until --for ends or --count pods
 * are done, on three watches for the whole namespace (pods by label, core
 * and events.k8s.io events), never one per pod. Each pod gets its own trace,
 * rebuilt from its share of the observations; all of them go in one run set
 * that `diff` and `report` accept. Nothing is created or deleted.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { connectionFailure } from '../kube/network-errors.js';
import { KubeApiError, type KubeClient } from '../kube/types.js';
import { renderRunSetSummary, renderRunSetYaml } from '../report/runset-summary.js';
import { eventsHeldBack } from '../trace/held-back.js';
import { isTerminalFailure } from '../trace/outcome.js';
import { reconstruct } from '../trace/reconstruct.js';
import { RECORDING_KIND, RECORDING_VERSION, type Observation, type RecordingHeader } from '../trace/observation.js';
import { makeRunSet } from '../analysis/runset.js';
import type { Trace } from '../trace/types.js';
import { ObservationLog } from '../watchers/observation-log.js';
import { ResilientWatch } from '../watchers/resilient-watch.js';
import { renderRunElement, RunSetWriter } from './runset-writer.js';
import { kubeconfigLoaded, openKubeClient, type CommandContext } from './context.js';
import { defaultRunSetPath, displayPath, useColor } from './output.js';
import { parseDuration, parseOutputFormat, validateNamespace } from './parse/flags.js';
import { TOOL_VERSION } from './version.js';

export interface WatchFlags {
  selector: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  for: string;
  count?: string;
  output: string;
  out?: string;
  quiet: boolean;
}

const MAX_FOR_MS = 24 * 3_600_000;
/** A label selector as the API server accepts it: key=value, key!=value, key, !key, key in (a,b). */
const SELECTOR = /^[A-Za-z0-9_./!()=, -]+$/;

/** One pod's share of the observations, and whether podtrace is done with it. */
interface Tracked {
  name: string;
  uid?: string;
  observations: Observation[];
  done: boolean;
  /** The trace built when the pod was done, and the input it was built from (own and shared observation counts). */
  built?: { trace: Trace; own: number; shared: number };
  /** Builds the trace once a done pod has been quiet for BUILD_WHEN_QUIET_MS. */
  buildTimer?: NodeJS.Timeout;
  /** The trace as appended to the run set file, when it was. */
  written?: { trace: Trace; index: number };
  /**
   * How many shared observations the trace takes in: all of them until it is
   * written, then those up to that moment. A watch gap or a node event long
   * after a pod was done is not part of its trace (and must not make all
   * finished traces be rebuilt at the end).
   */
  sharedUntil?: number;
  /**
   * The trace is final: written, and not waiting for an event it expects. What
   * happens to the pod afterwards (its node going NotReady, say) is not part
   * of its start, so later observations about it are dropped, with its own.
   */
  frozen?: boolean;
}

interface WatchResult {
  /** In the run set file's order: pods in the order their traces were final. */
  traces: Trace[];
  stoppedBy?: 'SIGINT' | 'SIGTERM';
}

/** Events about a pod keep arriving shortly after it is Ready (the scheduler's, on their own stream). */
const BUILD_WHEN_QUIET_MS = 500;

function meta(object: unknown): { name?: string; uid?: string; nodeName?: string } {
  const o = object as { metadata?: { name?: string; uid?: string }; spec?: { nodeName?: string } } | undefined;
  return { name: o?.metadata?.name, uid: o?.metadata?.uid, nodeName: o?.spec?.nodeName };
}

/** Which pod an event regards (core involvedObject or events.k8s.io regarding). */
function regarding(event: unknown): { kind?: string; name?: string; uid?: string } {
  const e = event as { involvedObject?: { kind?: string; name?: string; uid?: string }; regarding?: { kind?: string; name?: string; uid?: string } };
  return e?.involvedObject ?? e?.regarding ?? {};
}

export async function run(flags: WatchFlags, ctx: CommandContext): Promise<number> {
  const format = parseOutputFormat(flags.output);
  if (flags.selector.trim() === '' || !SELECTOR.test(flags.selector)) {
    throw new UsageError(`-l ${JSON.stringify(flags.selector)}: not a label selector; write e.g. -l app=web or -l 'app in (web,api)'`);
  }
  if (flags.namespace !== undefined) validateNamespace(flags.namespace);
  const forMs = parseDuration(flags.for, '--for');
  if (forMs > MAX_FOR_MS) throw new UsageError(`--for ${flags.for}: at most 24h`);
  let count: number | undefined;
  if (flags.count !== undefined) {
    if (!/^[0-9]+$/.test(flags.count.trim()) || Number(flags.count) < 1) throw new UsageError(`--count ${flags.count}: a whole number of pods, 1 or more`);
    count = Number(flags.count);
  }
  const kube = await openKubeClient(flags, ctx);
  const label = `${flags.selector} in ${kube.target.namespace}`;
  const cwd = ctx.cwd ?? process.cwd();
  const watch = new WatchRun(kube, ctx, flags.selector, forMs, count, flags.quiet);
  const savedTo = flags.out !== undefined ? path.resolve(cwd, flags.out) : defaultRunSetPath(cwd, 'watch', watch.startedAt);
  // Each pod's trace goes to the file once final, while the others still start.
  const writer = new RunSetWriter(savedTo, { ...makeRunSet([], label, TOOL_VERSION), createdAt: watch.startedAt });
  let result: WatchResult;
  try {
    result = await watch.execute(writer);
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await kube.close().catch(() => {});
  }
  const { traces, stoppedBy } = result;
  if (traces.length === 0) {
    await writer.abort();
    ctx.stderr.write(`podtrace: no pod matching ${flags.selector} appeared in ${kube.target.namespace}${stoppedBy ? ` before ${stoppedBy}` : ` within --for ${flags.for}`}: nothing saved\n`);
    return stoppedBy === 'SIGINT' ? EXIT.interrupted : stoppedBy === 'SIGTERM' ? EXIT.terminated : EXIT.timeout;
  }
  const set = { ...makeRunSet(traces, label, TOOL_VERSION), createdAt: watch.startedAt };
  const text =
    format === 'json'
      ? writer.text()
      : format === 'yaml'
        ? renderRunSetYaml(set)
        : renderRunSetSummary(set, { color: useColor(ctx.stdout, ctx.env), width: ctx.stdout.columns ?? 100 });
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  await writer.finish();
  ctx.stderr.write(`run set of ${traces.length} pod${traces.length === 1 ? '' : 's'} saved to ${displayPath(savedTo, cwd)}\n`);
  if (stoppedBy) return stoppedBy === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
  const firstFailure = traces.find((t) => t.outcome.exitCode !== EXIT.ok && t.outcome.exitCode !== null);
  return (firstFailure?.outcome.exitCode as ExitCode | undefined) ?? EXIT.ok;
}

class WatchRun {
  readonly log: ObservationLog;
  readonly #pods = new Map<string, Tracked>();
  /** Observations every pod shares: node facts, node events, watch gaps. */
  readonly #shared: Observation[] = [];
  readonly #nodesRead = new Set<string>();
  /** Events about pods not (yet) tracked: a Scheduled event can overtake the pod's ADDED on its own stream. */
  readonly #early = new Map<string, Observation[]>();
  #earlyCount = 0;
  readonly startedAt: number;
  #writer: RunSetWriter | undefined;
  /** Pods whose trace is in the run set file, in file order. */
  readonly #written: Tracked[] = [];
  /** Pods seen but not traced (they existed before the watch). */
  readonly #listed = new Set<string>();
  #initialDone = false;
  #finished = 0;
  #wake: (() => void) | undefined;

  constructor(
    readonly kube: KubeClient,
    readonly ctx: CommandContext,
    readonly selector: string,
    readonly forMs: number,
    readonly count: number | undefined,
    readonly quiet: boolean,
  ) {
    this.log = new ObservationLog(ctx.clock);
    this.startedAt = ctx.clock.now();
  }

  async execute(writer: RunSetWriter): Promise<WatchResult> {
    const { kube, log, ctx } = this;
    this.#writer = writer;
    const namespace = kube.target.namespace;
    const ns = encodeURIComponent(namespace);
    log.subscribe((o) => this.#route(o));
    // every pod's trace says which cluster and context it came from
    log.client('kubeconfig-loaded', kubeconfigLoaded(kube.target));
    const watches = [
      new ResilientWatch({ name: 'pod', source: 'pod', path: `/api/v1/namespaces/${ns}/pods`, labelSelector: this.selector }, kube, log),
      new ResilientWatch({ name: 'event', source: 'event', path: `/api/v1/namespaces/${ns}/events` }, kube, log),
      new ResilientWatch({ name: 'eventsv1', source: 'eventsv1', path: `/apis/events.k8s.io/v1/namespaces/${ns}/events` }, kube, log),
    ];
    let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
    const signals = ctx.signals ?? process;
    const onSignal = (signal: 'SIGINT' | 'SIGTERM') => () => {
      stoppedBy ??= signal;
      this.#wake?.();
    };
    const handlers = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, onSignal(s)] as const);
    for (const [s, h] of handlers) signals.on(s, h);
    try {
      try {
        // The pod watch first: what it lists is what existed before, and is not traced.
        const listedAt = await watches[0]!.start();
        this.#initialDone = true;
        // Events from the pod LIST on, without listing the namespace's old ones: only new pods are traced.
        await Promise.all(watches.slice(1).map((w) => w.start(listedAt)));
      } catch (error) {
        for (const w of watches) w.stop();
        const fatal = connectionFailure(error, kube.target.server);
        if (fatal) throw fatal;
        if (error instanceof KubeApiError && error.status === 403) {
          throw new UsageError(`not allowed to watch pods or events in ${namespace} (${error.message}): podtrace watch needs list/watch on pods and events`);
        }
        throw error;
      }
      if (!this.quiet) ctx.stderr.write(`watching pods ${this.selector} in ${namespace}${this.count ? ` until ${this.count} are done` : ''}, for at most ${Math.round(this.forMs / 1000)}s\n`);
      const deadline = this.startedAt + this.forMs;
      while (stoppedBy === undefined && ctx.clock.now() < deadline && (this.count === undefined || this.#finished < this.count)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(1000, Math.max(0, deadline - ctx.clock.now())));
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      for (const w of watches) w.stop();
      for (const [s, h] of handlers) signals.off(s, h);
    }
    const rest = [...this.#pods.values()].filter((p) => !p.written);
    const traces = [...this.#written, ...rest].map((pod) => {
      const trace = this.#trace(pod, stoppedBy);
      // a late event about a written pod: its new trace replaces the old one in the file
      if (!pod.written) this.#write(pod, trace);
      else if (pod.written.trace !== trace) this.#writer!.replace(pod.written.index, renderRunElement(trace));
      return trace;
    });
    return { traces, ...(stoppedBy ? { stoppedBy } : {}) };
  }

  /** Appends a done pod's trace to the run set file. */
  #write(pod: Tracked, trace: Trace): void {
    pod.sharedUntil = pod.built?.trace === trace ? pod.built.shared : this.#shared.length;
    pod.written = { trace, index: this.#writer!.append(renderRunElement(trace)) };
    this.#written.push(pod);
    // An event held back by an API server outage may yet come: only then keep listening.
    if (eventsHeldBack(trace).length === 0) {
      pod.frozen = true;
      pod.observations = [];
      pod.built = undefined;
    }
  }

  /** Gives each observation to the pod it is about, or to all of them. */
  #route(o: Observation): void {
    if (o.source === 'pod') {
      const { name, uid, nodeName } = meta(o.object);
      if (name === undefined) return;
      let pod = this.#pods.get(name);
      if (!pod) {
        // Pods that existed before the watch are not traced: they show up first in the initial LIST.
        // A pod first seen in a relist (after a gap) is traced when it was created after the start.
        if (this.#listed.has(name)) return;
        const created = Date.parse((o.object as { metadata?: { creationTimestamp?: string } }).metadata?.creationTimestamp ?? '');
        const newInRelist = o.type === 'LIST' && this.#initialDone && created >= Math.floor(this.startedAt / 1000) * 1000;
        if (o.type !== 'ADDED' && !newInRelist) {
          this.#listed.add(name);
          return;
        }
        pod = { name, ...(uid ? { uid } : {}), observations: [], done: false };
        this.#pods.set(name, pod);
        for (const e of this.#early.get(name) ?? []) {
          const r = regarding(e.object);
          if (r.uid === undefined || uid === undefined || r.uid === uid) pod.observations.push(e);
        }
        this.#early.delete(name);
      }
      if (pod.frozen) return;
      pod.observations.push(o);
      if (nodeName && !this.#nodesRead.has(nodeName)) {
        this.#nodesRead.add(nodeName);
        void this.#readNode(nodeName);
      }
      if (!pod.done) this.#check(pod, o);
      else this.#buildWhenQuiet(pod);
      return;
    }
    if (o.source === 'event' || o.source === 'eventsv1') {
      const r = regarding(o.object);
      if (r.kind === 'Node') {
        this.#shared.push(o);
        return;
      }
      if (r.name === undefined) return;
      const pod = this.#pods.get(r.name);
      if (pod && (r.uid === undefined || pod.uid === undefined || r.uid === pod.uid)) {
        if (pod.frozen) return;
        pod.observations.push(o);
        if (pod.done) this.#buildWhenQuiet(pod);
      }
      else if (!pod && this.#initialDone && o.type !== 'LIST') this.#keepEarly(r.name, o);
      return;
    }
    if (o.source === 'client' && ['kubeconfig-loaded', 'watch-gap', 'relist', 'watch-started', 'node-info'].includes(o.type)) this.#shared.push(o);
  }

  #keepEarly(name: string, o: Observation): void {
    // Bounded: events about pods that never match the selector must not pile up.
    if (this.#earlyCount >= 10_000) {
      this.#early.clear();
      this.#earlyCount = 0;
    }
    this.#early.set(name, [...(this.#early.get(name) ?? []), o]);
    this.#earlyCount += 1;
  }

  /** Done when Ready, deleted, or failed for good (the same rule as create's wait). */
  #check(pod: Tracked, o: Observation): void {
    const status = (o.object as { status?: { conditions?: Array<{ type?: string; status?: string }> } }).status;
    const ready = status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    const gone = o.type === 'DELETED';
    const failed = !ready && !gone && isTerminalFailure(reconstruct(this.#header(pod), this.#observationsOf(pod)));
    if (!ready && !gone && !failed) return;
    pod.done = true;
    this.#finished += 1;
    pod.observations.push(this.log.client('done', { reason: ready ? 'ready' : gone ? 'gone' : 'failed', pod: pod.name }));
    if (!this.quiet) this.ctx.stderr.write(`${pod.name}: ${ready ? 'Ready' : gone ? 'deleted' : 'failed'}\n`);
    // Build its trace while others are still starting, rather than all at the end.
    this.#buildWhenQuiet(pod);
    if (this.count !== undefined && this.#finished >= this.count) this.#wake?.();
  }

  async #readNode(nodeName: string): Promise<void> {
    try {
      const { body } = await this.kube.request('GET', `/api/v1/nodes/${encodeURIComponent(nodeName)}`);
      this.log.client('node-info', { node: body });
    } catch {
      // Node access is optional: the traces say less about the node.
    }
  }

  #header(pod: Tracked): RecordingHeader {
    return {
      kind: RECORDING_KIND,
      version: RECORDING_VERSION,
      toolVersion: TOOL_VERSION,
      startedAt: this.startedAt,
      namespace: this.kube.target.namespace,
      podName: pod.name,
      options: { keep: true, timeoutMs: this.forMs, watch: true },
    };
  }

  /** The pod's own observations and the shared ones, in arrival order. */
  #observationsOf(pod: Tracked): Observation[] {
    return [...pod.observations, ...this.#shared.slice(0, this.#sharedCount(pod))].sort((a, b) => a.seq - b.seq);
  }

  #sharedCount(pod: Tracked): number {
    return pod.sharedUntil ?? this.#shared.length;
  }

  #trace(pod: Tracked, stoppedBy: 'SIGINT' | 'SIGTERM' | undefined): Trace {
    if (pod.frozen) return pod.written!.trace;
    if (!pod.done) {
      pod.done = true;
      if (stoppedBy) pod.observations.push(this.log.client('interrupted', { signal: stoppedBy }));
      else pod.observations.push(this.log.client('timeout', { afterMs: this.forMs }));
      pod.observations.push(this.log.client('done', { reason: stoppedBy ? 'interrupted' : 'timeout', pod: pod.name }));
    }
    const built = pod.built;
    // reconstruct is a pure function of its input: a trace built from the same observations is the same trace
    if (built && built.own === pod.observations.length && built.shared === this.#sharedCount(pod)) return built.trace;
    return this.#build(pod);
  }

  #buildWhenQuiet(pod: Tracked): void {
    clearTimeout(pod.buildTimer);
    pod.buildTimer = setTimeout(() => {
      const trace = this.#build(pod);
      // quiet and done: final, unless a late event changes it (then the file is written again at the end)
      if (!pod.written) this.#write(pod, trace);
    }, BUILD_WHEN_QUIET_MS);
    pod.buildTimer.unref();
  }

  #build(pod: Tracked): Trace {
    clearTimeout(pod.buildTimer);
    const trace = reconstruct(this.#header(pod), this.#observationsOf(pod));
    pod.built = { trace, own: pod.observations.length, shared: this.#sharedCount(pod) };
    return trace;
  }
}
