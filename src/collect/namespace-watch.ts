/**
 * `podtrace watch -l SELECTOR`: traces every pod that appears matching the
 * selector (a Deployment rollout, a Job) until --for ends, --count pods are
 * done or a signal comes, on three watches for the whole namespace (pods by
 * label, core and events.k8s.io events), never one per pod. Each pod's trace
 * is built from its share of the observations (pod-demux.ts) once it is done
 * and quiet, and handed to the sink while the others still start. Nothing is
 * created or deleted.
 *
 * Memory follows the pods in flight, not the pods traced: the observation log
 * keeps nothing, a pod's observations go once its trace is written, and of a
 * written trace nothing is kept but its place in the sink, unless an event
 * held back by a watch gap may still change it (a bounded few).
 */
import type { ClusterApi } from '../kube/types.js';
import { eventsHeldBack } from '../trace/held-back.js';
import type { ClientObservationType, Observation, RecordingHeader } from '../trace/observation.js';
import { reconstruct } from '../trace/reconstruct.js';
import type { Trace } from '../trace/types.js';
import { doneReason } from './done.js';
import { ObservationLog, type Clock } from './observation-log.js';
import { PodDemux, withoutManagedFields, type TrackedPod } from './pod-demux.js';
import type { TextSink } from './progress-sink.js';
import { ResilientWatch } from './resilient-watch.js';
import { readNode, recordingHeader, recordTarget } from './run-header.js';
import { readPodSpans, spansReadNote } from './spans.js';
import { pause, type StopController, type StopSignal } from './stop.js';
import { openRequiredWatches } from './watch-access.js';

/** Where final traces go, in the order they became final (the run set file). */
export interface TraceSink {
  /** Appends a final trace; its index in the set. */
  append(trace: Trace): number;
  /** A trace already appended changed (a late event after a watch gap). */
  replace(index: number, trace: Trace): void;
}

export interface NamespaceWatchOptions {
  selector: string;
  forMs: number;
  count?: number;
  quiet: boolean;
  /** `--spans URL`: each done pod's component spans are read before its trace is final. */
  spans?: string;
}

/** Span reads at once: each polls the backend while the pod's spans are still being exported. */
const SPAN_READS_AT_ONCE = 4;

export interface WatchResult {
  /** How many traces the sink was given. */
  count: number;
  stoppedBy?: StopSignal;
}

/** Events about a pod keep arriving shortly after it is Ready (the scheduler's, on their own stream). */
const BUILD_WHEN_QUIET_MS = 500;

interface PodBuild {
  /** The trace built when the pod was done, and the input it was built from (own and shared observation counts). */
  built?: { trace: Trace; own: number; shared: number };
  /** Builds the trace once a done pod has been quiet for BUILD_WHEN_QUIET_MS. */
  timer?: NodeJS.Timeout;
  /** The trace as handed to the sink, when it was (kept only while the pod is not frozen). */
  written?: { trace: Trace; index: number };
}

export class NamespaceWatch {
  readonly log: ObservationLog;
  readonly startedAt: number;
  readonly #demux: PodDemux;
  /** The pods being built, and those written whose trace may yet change; a frozen pod's is dropped. */
  readonly #builds = new Map<TrackedPod, PodBuild>();
  #appended = 0;
  #finished = 0;
  #wake: (() => void) | undefined;
  #sink: TraceSink | undefined;
  /** Pods whose spans are read or being read, and the reads under way. */
  readonly #spansRead = new Set<TrackedPod>();
  readonly #spanReads = new Set<Promise<void>>();
  #spanReadsRunning = 0;
  readonly #spanQueue: Array<() => void> = [];
  #spansNoted = false;

  constructor(
    private readonly api: ClusterApi,
    private readonly options: NamespaceWatchOptions,
    private readonly io: { clock: Clock; stderr: TextSink; stop: StopController; toolVersion: string },
  ) {
    this.log = new ObservationLog(io.clock, { retain: false });
    this.startedAt = io.clock.now();
    this.#demux = new PodDemux(this.startedAt, {
      podChanged: (pod, o) => this.#check(pod, o),
      doneChanged: (pod) => this.#buildWhenQuiet(pod),
      newNode: (node) => void readNode(this.api, this.log, node),
    });
  }

  async run(sink: TraceSink): Promise<WatchResult> {
    const { api, log, options, io } = this;
    const namespace = api.target.namespace;
    this.#sink = sink;
    log.subscribe((o) => this.#demux.route(withoutManagedFields(o)));
    // every pod's trace says which cluster and context it came from
    recordTarget(log, api.target);
    const watches = [
      new ResilientWatch({ name: 'pod', source: 'pod', what: { resource: 'pods', namespace }, labelSelector: options.selector }, api, log),
      new ResilientWatch({ name: 'event', source: 'event', what: { resource: 'events', namespace } }, api, log),
      new ResilientWatch({ name: 'eventsv1', source: 'eventsv1', what: { resource: 'eventsv1', namespace } }, api, log),
    ];
    const offStop = io.stop.onStop(() => this.#wake?.());
    try {
      await openRequiredWatches(namespace, async () => {
        try {
          // The pod watch first: what it lists is what existed before, and is not traced.
          const listedAt = await watches[0]!.start();
          this.#demux.initialListDone = true;
          // Events from the pod LIST on, without listing the namespace's old ones: only new pods are traced.
          await Promise.all(watches.slice(1).map((w) => w.start(listedAt)));
        } catch (error) {
          for (const w of watches) w.stop();
          throw error;
        }
      });
      if (!options.quiet) {
        io.stderr.write(`watching pods ${options.selector} in ${namespace}${options.count ? ` until ${options.count} are done` : ''}, for at most ${Math.round(options.forMs / 1000)}s\n`);
      }
      const deadline = this.startedAt + options.forMs;
      while (io.stop.stoppedBy === undefined && io.clock.now() < deadline && (options.count === undefined || this.#finished < options.count)) {
        const wake = new AbortController();
        this.#wake = () => wake.abort();
        await pause(Math.min(1000, Math.max(0, deadline - io.clock.now())), wake.signal);
      }
    } finally {
      for (const w of watches) w.stop();
      offStop();
    }
    // pods done just before the end (--count reached) have their spans read too
    if (options.spans !== undefined && io.stop.stoppedBy === undefined) {
      for (const pod of this.#demux.pods.values()) if (pod.done && !this.#build(pod).written) this.#startSpanRead(pod, options.spans);
    }
    // the span reads of pods already done end within their bound (a signal cuts them short)
    while (this.#spanReads.size > 0) await Promise.all([...this.#spanReads]);
    const stoppedBy = io.stop.stoppedBy;
    // frozen pods are in the sink for good and no longer tracked; the others are written, or replaced
    // when a late event changed them
    for (const pod of [...this.#demux.pods.values()]) {
      const trace = this.#final(pod, stoppedBy);
      const written = this.#build(pod).written;
      if (!written) this.#write(sink, pod, trace);
      else if (written.trace !== trace) sink.replace(written.index, trace);
    }
    return { count: this.#appended, ...(stoppedBy ? { stoppedBy } : {}) };
  }

  #build(pod: TrackedPod): PodBuild {
    let build = this.#builds.get(pod);
    if (!build) this.#builds.set(pod, (build = {}));
    return build;
  }

  /** Hands a done pod's trace to the sink. */
  #write(sink: TraceSink, pod: TrackedPod, trace: Trace): void {
    const build = this.#build(pod);
    pod.sharedUntil = build.built?.trace === trace ? build.built.shared : this.#demux.shared.length;
    build.written = { trace, index: sink.append(trace) };
    this.#appended += 1;
    // An event held back by an API server outage may yet come: only then keep listening.
    if (eventsHeldBack(trace).length === 0) {
      this.#demux.freeze(pod);
      this.#builds.delete(pod);
      this.#spansRead.delete(pod);
    }
  }

  /** Done when Ready, deleted, or failed for good (collect/done.ts, as create decides, without the settling rule). */
  #check(pod: TrackedPod, o: Observation): void {
    const gone = o.type === 'DELETED';
    // A pod that runs to completion (a Job's: restartPolicy Never or OnFailure) is done when it
    // completes, not when it is Ready for a moment on the way: its trace ends Succeeded (or failed).
    const restartPolicy = (o.object as { spec?: { restartPolicy?: string } } | undefined)?.spec?.restartPolicy;
    const completes = restartPolicy === 'Never' || restartPolicy === 'OnFailure';
    const trace = gone ? undefined : reconstruct(this.#header(pod), this.#demux.observationsOf(pod));
    const reason = trace ? doneReason(trace, { podGone: false, now: this.io.clock.now(), readyIsNotEnough: completes }) : 'gone';
    if (reason === undefined) return;
    pod.done = true;
    this.#finished += 1;
    pod.observations.push(this.log.client('done', { reason, pod: pod.name }));
    const said = reason === 'ready' ? 'Ready' : reason === 'gone' ? 'deleted' : (trace?.outcome.suspected?.class ?? trace?.outcome.class) === 'succeeded' ? 'Succeeded' : 'failed';
    if (!this.options.quiet) this.io.stderr.write(`${pod.name}: ${said}\n`);
    // Build its trace while others are still starting, rather than all at the end.
    this.#buildWhenQuiet(pod);
    if (this.options.count !== undefined && this.#finished >= this.options.count) this.#wake?.();
  }

  #header(pod: TrackedPod): RecordingHeader {
    return recordingHeader({
      toolVersion: this.io.toolVersion,
      startedAt: this.startedAt,
      namespace: this.api.target.namespace,
      podName: pod.name,
      options: { keep: true, timeoutMs: this.options.forMs, watch: true },
    });
  }

  #final(pod: TrackedPod, stoppedBy: StopSignal | undefined): Trace {
    const build = this.#build(pod);
    if (!pod.done) {
      pod.done = true;
      if (stoppedBy) pod.observations.push(this.log.client('interrupted', { signal: stoppedBy }));
      else pod.observations.push(this.log.client('timeout', { afterMs: this.options.forMs }));
      pod.observations.push(this.log.client('done', { reason: stoppedBy ? 'interrupted' : 'timeout', pod: pod.name }));
    }
    const built = build.built;
    // reconstruct is a pure function of its input: a trace built from the same observations is the same trace
    if (built && built.own === pod.observations.length && built.shared === this.#demux.sharedCount(pod)) return built.trace;
    return this.#rebuild(pod);
  }

  #buildWhenQuiet(pod: TrackedPod): void {
    const build = this.#build(pod);
    clearTimeout(build.timer);
    build.timer = setTimeout(() => {
      if (this.options.spans !== undefined && !this.#spansRead.has(pod) && !build.written && this.io.stop.stoppedBy === undefined) {
        this.#startSpanRead(pod, this.options.spans);
        return;
      }
      const trace = this.#rebuild(pod);
      // quiet and done: final, unless a late event changes it (then the sink gets it again at the end)
      if (!build.written && this.#sink) this.#write(this.#sink, pod, trace);
    }, BUILD_WHEN_QUIET_MS);
    build.timer.unref();
  }

  #startSpanRead(pod: TrackedPod, backend: string): void {
    if (this.#spansRead.has(pod)) return;
    this.#spansRead.add(pod);
    clearTimeout(this.#build(pod).timer);
    const read = this.#readSpans(pod, backend).finally(() => this.#spanReads.delete(read));
    this.#spanReads.add(read);
  }

  /** Reads a done pod's spans into its own observations (a few pods at once), then builds and hands on its trace. */
  async #readSpans(pod: TrackedPod, backend: string): Promise<void> {
    if (this.#spanReadsRunning >= SPAN_READS_AT_ONCE) await new Promise<void>((resolve) => this.#spanQueue.push(resolve));
    this.#spanReadsRunning += 1;
    try {
      const object = [...pod.observations].reverse().find((o) => o.source === 'pod')?.object;
      const log = {
        clock: this.log.clock,
        client: (type: ClientObservationType, data?: Record<string, unknown>) => {
          const o = this.log.client(type, data);
          pod.observations.push(o);
          return o;
        },
      };
      const gone = pod.observations.some((o) => o.source === 'pod' && o.type === 'DELETED');
      await readPodSpans(object, { backend, signal: this.io.stop.signal, podDeleted: gone }, log);
      const note = spansReadNote(pod.observations, backend);
      // one note for the whole watch: the backend or the cluster's tracing is the same for every pod
      if (note && !this.#spansNoted && !this.options.quiet) {
        this.#spansNoted = true;
        this.io.stderr.write(`${note}\n`);
      }
    } finally {
      this.#spanReadsRunning -= 1;
      this.#spanQueue.shift()?.();
    }
    const build = this.#build(pod);
    const trace = this.#rebuild(pod);
    if (!build.written && this.#sink) this.#write(this.#sink, pod, trace);
  }

  #rebuild(pod: TrackedPod): Trace {
    const build = this.#build(pod);
    clearTimeout(build.timer);
    const trace = reconstruct(this.#header(pod), this.#demux.observationsOf(pod));
    build.built = { trace, own: pod.observations.length, shared: this.#demux.sharedCount(pod) };
    return trace;
  }
}
