/**
 * The components' metrics around a run: the API server's /metrics and each
 * kubelet's (through the node proxy), read before the POST (never on its
 * path: the POST does not wait for them), right after the POST's answer (the
 * API server), and after Ready (the kubelet; the API server only if its read
 * after the POST failed). Only the histograms podtrace reads are kept,
 * as the lines the component wrote (`_sum` and `_count`), so the trace derives
 * every number and a replay does it again. Reads that are refused are
 * recorded with their error; the run goes on.
 */
import { AuthError, UnreachableError } from '../errors.js';
import { describeKubeError } from '../kube/errors.js';
import type { ClusterApi } from '../kube/types.js';
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

/** A read of more nodes than this before the POST would cost more than it tells: the pod's node is read after. */
const MAX_NODES_READ_BEFORE = 8;

/** The lines of the kept families' `_sum` and `_count` series, as written. */
export function keptLines(text: string, component: MetricsTarget['component']): string[] {
  const prefixes = KEPT_FAMILIES[component].flatMap((f) => [`${f}_sum`, `${f}_count`]);
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    // cheap first test: every kept family starts with one of three letters
    const c = text.charCodeAt(start);
    if (c === 97 /* a */ || c === 101 /* e */ || c === 107 /* k */) {
      const line = text.slice(start, end);
      const kept = prefixes.some((p) => line.startsWith(p) && (line[p.length] === '{' || line[p.length] === ' '));
      // the request and storage histograms cover every resource: only the pods' concern a pod's start
      if (kept && (!PER_RESOURCE.test(line) || line.includes('resource="pods"'))) out.push(line);
    }
    start = end + 1;
  }
  return out;
}

export class MetricsReader {
  readonly #pending: Array<Promise<void>> = [];
  readonly #refused = new Set<string>();
  #apiserverAfterPost: Promise<boolean> | undefined;

  constructor(
    private readonly api: ClusterApi,
    private readonly log: ObservationLog,
    /** Says once what could not be read, and what would grant it. */
    private readonly note: (line: string) => void,
  ) {}

  /** Starts reading; returns at once. */
  read(phase: MetricsPhase, target: MetricsTarget): void {
    const reading = this.#read(phase, target);
    if (phase === 'after-post' && target.component === 'apiserver') this.#apiserverAfterPost = reading;
    this.#pending.push(reading.then(() => undefined));
  }

  /**
   * After Ready (or the failure): the pod's kubelet, whose operations end there, and the API server
   * again only when its reading right after the POST did not come (its part of the start ended with
   * the POST's answer; a second read of its large /metrics would only delay the trace).
   */
  readAfter(node: string | undefined): void {
    const afterPost = this.#apiserverAfterPost ?? Promise.resolve(false);
    this.#pending.push(afterPost.then((ok) => (ok ? undefined : this.#read('after', { component: 'apiserver' }).then(() => undefined))));
    if (node) this.read('after', { component: 'kubelet', node });
  }

  /** Before the POST: the API server and, in a small cluster, every node's kubelet (the pod's node is not known yet). */
  readBefore(): void {
    this.read('before', { component: 'apiserver' });
    this.#pending.push(
      this.api.list({ resource: 'nodes' }, {}).then(
        ({ items }) => {
          const names = items.map((n) => (n as { metadata?: { name?: string } }).metadata?.name).filter((n): n is string => Boolean(n));
          if (names.length > MAX_NODES_READ_BEFORE) {
            this.log.client('metrics-sample', { component: 'kubelet', phase: 'before', error: `${names.length} nodes: too many to read before the POST` });
            return;
          }
          for (const node of names) this.read('before', { component: 'kubelet', node });
        },
        (error: unknown) => this.#failed('before', { component: 'kubelet', node: '*' }, error),
      ),
    );
  }

  /** Waits for every read started so far. */
  async settle(): Promise<void> {
    while (this.#pending.length > 0) await Promise.all(this.#pending.splice(0));
  }

  /** True when the reading was recorded. */
  async #read(phase: MetricsPhase, target: MetricsTarget): Promise<boolean> {
    const requestedAt = this.log.clock.now();
    try {
      const text = await this.api.componentMetrics(target);
      this.log.client('metrics-sample', { ...target, phase, requestedAt, lines: keptLines(text, target.component) });
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
