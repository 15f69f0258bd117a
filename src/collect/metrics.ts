/**
 * The components' metrics around a run: the API server's /metrics and each
 * kubelet's (through the node proxy), read before the POST (beside the
 * reviews; the POST waits for them, half a second at most), once the kubelet has reported the
 * pod (the API server), and after Ready (the kubelet; the API server only if
 * its earlier read did not come). They are asked for in Prometheus's protobuf form, which the
 * API server renders in half the time of its text (the POST waits for that read), and the text is
 * read where a component answers text. Only the histograms podtrace reads are kept,
 * as text lines (`_sum` and `_count`: as the component wrote them, or as its text form would
 * write them), so the trace derives every number and a replay does it again. Reads that are refused are
 * recorded with their error; the run goes on.
 */
import { AuthError, UnreachableError } from '../errors.js';
import { describeKubeError } from '../kube/errors.js';
import type { ClusterApi } from '../kube/types.js';
import { protobufHistogramLines } from './metrics-protobuf.js';
import type { ObservationLog } from './observation-log.js';

export type MetricsPhase = 'before' | 'after-post' | 'after';
export type MetricsTarget = { component: 'apiserver' } | { component: 'kubelet'; node: string };

/** The histograms whose sum and count podtrace reads, by component. */
export const KEPT_FAMILIES: Readonly<Record<MetricsTarget['component'], readonly string[]>> = {
  apiserver: [
    'apiserver_admission_controller_admission_duration_seconds',
    'apiserver_admission_webhook_admission_duration_seconds',
    'apiserver_admission_step_admission_duration_seconds',
    'etcd_request_duration_seconds',
    'apiserver_request_duration_seconds',
  ],
  kubelet: [
    'kubelet_runtime_operations_duration_seconds',
    'kubelet_cgroup_manager_duration_seconds',
    'kubelet_pod_start_sli_duration_seconds',
    'kubelet_pod_worker_duration_seconds',
  ],
};

const PER_RESOURCE = /^(apiserver_request_duration_seconds|etcd_request_duration_seconds)_/;

/** The request and storage histograms cover every resource: only the pods' concern a pod's start. */
function isKeptSeries(line: string): boolean {
  return !PER_RESOURCE.test(line) || line.includes('resource="pods"');
}

/** KEPT_FAMILIES as sets, for the protobuf reader. */
const KEPT_FAMILY_SETS = {
  apiserver: new Set(KEPT_FAMILIES.apiserver),
  kubelet: new Set(KEPT_FAMILIES.kubelet),
} as const;

/** A read of more nodes than this before the POST would cost more than it tells: the pod's node is read after. */
const MAX_NODES_READ_BEFORE = 8;

/**
 * The lines of the kept families' `_sum` and `_count` series, as written, in the text's order.
 * Each series name is looked for with the string's own search, not line by line: the API
 * server's text is megabytes, read on the event loop before the POST, and a few hundred lines of it are kept.
 */
export function keptLines(text: string, component: MetricsTarget['component']): string[] {
  const found: Array<{ at: number; line: string }> = [];
  for (const name of KEPT_FAMILIES[component].flatMap((f) => [`${f}_sum`, `${f}_count`])) {
    for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + name.length)) {
      // the series itself: at a line's start, its name followed by its labels or its value
      const next = text[at + name.length];
      if ((at > 0 && text[at - 1] !== '\n') || (next !== '{' && next !== ' ')) continue;
      const end = text.indexOf('\n', at);
      const line = text.slice(at, end === -1 ? text.length : end);
      if (isKeptSeries(line)) found.push({ at, line });
    }
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.line);
}

/** keptLines for the protobuf form: the same series, written as the text form writes them. */
export function keptProtobufLines(bytes: Uint8Array, component: MetricsTarget['component']): string[] {
  return protobufHistogramLines(bytes, KEPT_FAMILY_SETS[component]).filter(isKeptSeries);
}

function isPodNamed(object: unknown, name: string): boolean {
  return (object as { metadata?: { name?: unknown } } | null)?.metadata?.name === name;
}

function hasStartTime(object: unknown): boolean {
  return typeof (object as { status?: { startTime?: unknown } } | null)?.status?.startTime === 'string';
}

export class MetricsReader {
  readonly #pending: Array<Promise<void>> = [];
  readonly #refused = new Set<string>();
  #apiserverAfterPost: Promise<boolean> | undefined;
  #stopWaiting: (() => void) | undefined;

  constructor(
    private readonly api: ClusterApi,
    private readonly log: ObservationLog,
    /** Says once what could not be read, and what would grant it. */
    private readonly note: (line: string) => void,
  ) {}

  /** Starts a reading, which settle() waits for; resolves to whether it was recorded. */
  #start(phase: MetricsPhase, target: MetricsTarget): Promise<boolean> {
    const reading = this.#read(phase, target);
    this.#pending.push(reading.then(() => undefined));
    return reading;
  }

  /**
   * The API server's counts after the POST (its admission and etcd write), read once the pod's
   * kubelet has written the pod's first status (status.startTime), not at the POST's answer. The
   * API server's /metrics is megabytes to render, and read right after the POST it competed with
   * the scheduler's binding and the node authorizer's update: the kubelet's first read of the
   * pod's ConfigMap was refused ("no relationship found between node ... and this object") and
   * its volume mounted 1-1.5 s later, in 8 of 19 runs of bench/overhead.mjs. The kubelet's
   * status write is itself authorized by that relationship, so after it the race is over; the
   * POST's and the etcd write's counts only move with other pods' creations meanwhile.
   */
  readApiserverAfterKubeletStatus(podName: string): void {
    const stop = this.log.subscribe((o) => {
      if (o.source !== 'pod' || o.type === 'DELETED' || !isPodNamed(o.object, podName) || !hasStartTime(o.object)) return;
      this.#stopWaiting?.();
      this.#apiserverAfterPost = this.#start('after-post', { component: 'apiserver' });
    });
    this.#stopWaiting = () => {
      this.#stopWaiting = undefined;
      stop();
    };
  }

  /**
   * After Ready (or the failure): the pod's kubelet, whose operations end there, and the API server
   * again only when its reading after the POST did not come (never started, because the kubelet
   * never reported the pod, or failed).
   */
  readAfter(node: string | undefined): void {
    this.#stopWaiting?.();
    const afterPost = this.#apiserverAfterPost ?? Promise.resolve(false);
    this.#pending.push(
      afterPost.then((ok) => {
        if (!ok) void this.#start('after', { component: 'apiserver' });
      }),
    );
    if (node) void this.#start('after', { component: 'kubelet', node });
  }

  /** Before the POST: the API server and, in a small cluster, every node's kubelet (the pod's node is not known yet). */
  readBefore(): void {
    void this.#start('before', { component: 'apiserver' });
    this.#pending.push(
      this.api.list({ resource: 'nodes' }, {}).then(
        ({ items }) => {
          const names = items.map((n) => (n as { metadata?: { name?: string } }).metadata?.name).filter((n): n is string => Boolean(n));
          if (names.length > MAX_NODES_READ_BEFORE) {
            this.log.client('metrics-sample', { component: 'kubelet', phase: 'before', error: `${names.length} nodes: too many to read before the POST` });
            return;
          }
          for (const node of names) void this.#start('before', { component: 'kubelet', node });
        },
        (error: unknown) => this.#failed('before', { component: 'kubelet', node: '*' }, error),
      ),
    );
  }

  /**
   * Waits, at most `maxMs`, for the readings before the POST: a POST sent while the API server was
   * still rendering its /metrics lost the node authorizer's race described at
   * readApiserverAfterKubeletStatus. Waiting also keeps the 'before' counts free of the POST's own.
   */
  async beforeDone(maxMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), maxMs);
    });
    try {
      // the kubelets' reads are started once the node list comes: wait for what each round added
      for (let seen = 0; seen < this.#pending.length; ) {
        const round = this.#pending.slice(seen);
        seen = this.#pending.length;
        if ((await Promise.race([Promise.all(round), late])) === 'late') return;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for every read started so far. */
  async settle(): Promise<void> {
    while (this.#pending.length > 0) await Promise.all(this.#pending.splice(0));
  }

  /** True when the reading was recorded. */
  async #read(phase: MetricsPhase, target: MetricsTarget): Promise<boolean> {
    const requestedAt = this.log.clock.now();
    try {
      const body = await this.api.componentMetrics(target, { protobuf: true });
      const lines = body.format === 'protobuf' ? keptProtobufLines(body.bytes, target.component) : keptLines(body.text, target.component);
      this.log.client('metrics-sample', { ...target, phase, requestedAt, lines });
      return true;
    } catch (error) {
      this.#failed(phase, target, error);
      return false;
    }
  }

  #failed(phase: MetricsPhase, target: MetricsTarget, error: unknown): void {
    const message = describeKubeError(error);
    this.log.client('metrics-sample', { ...target, phase, error: message });
    // a cluster out of reach, or credentials refused, end the run with their own message
    if (error instanceof UnreachableError || error instanceof AuthError) return;
    const what = target.component === 'apiserver' ? "the API server's /metrics" : "the kubelets' /metrics (nodes/proxy)";
    if (this.#refused.has(what)) return;
    this.#refused.add(what);
    this.note(`note: could not read ${what}: ${message} (deploy/rbac-metrics.yaml grants it); the components' metrics are left out`);
  }
}
