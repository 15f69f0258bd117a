import { isRecord } from '../kube/errors.js';
import type { ClusterApi } from '../kube/types.js';
import type { Observation } from '../trace/observation.js';
import type { ObservationLog } from './observation-log.js';
import { ResilientWatch, type ResilientWatchOptions, type WatchTarget } from './resilient-watch.js';
import { readNode } from './run-header.js';

export interface PodWatchSetOptions {
  namespace: string;
  podName: string;
  /** `--expose`: also watch the EndpointSlices of the Service of this name. */
  serviceName?: string;
  watchOptions?: ResilientWatchOptions;
}

type Transport = Pick<ClusterApi, 'list' | 'watch' | 'getNode'>;

/**
 * Everything podtrace watches for one pod: the pod itself, its core/v1 events
 * (kubelet) and events.k8s.io/v1 events (scheduler), and — once the pod is
 * bound — its node and the node's events, plus one GET of the node.
 */
export class PodWatchSet {
  readonly #watches: ResilientWatch[] = [];
  readonly #unsubscribe: () => void;
  #nodeName: string | undefined;
  #podGone = false;
  #stopped = false;
  readonly #goneWaiters = new Set<() => void>();
  readonly #gone = new AbortController();

  constructor(
    private readonly transport: Transport,
    private readonly log: ObservationLog,
    private readonly options: PodWatchSetOptions,
  ) {
    this.#unsubscribe = log.subscribe((observation) => this.#onObservation(observation));
  }

  get nodeName(): string | undefined {
    return this.#nodeName;
  }

  get podGone(): boolean {
    return this.#podGone;
  }

  /** Aborted once the pod is known to be gone: waits that end with the pod end on it. */
  get goneSignal(): AbortSignal {
    return this.#gone.signal;
  }

  /** Resolves once the pod and event watches are open, so a POST after it misses nothing. */
  async start(): Promise<void> {
    const { namespace, podName } = this.options;
    const targets: WatchTarget[] = [
      { name: 'pod', source: 'pod', what: { resource: 'pods', namespace }, fieldSelector: `metadata.name=${podName}` },
      { name: 'event', source: 'event', what: { resource: 'events', namespace }, fieldSelector: `involvedObject.name=${podName}` },
      { name: 'eventsv1', source: 'eventsv1', what: { resource: 'eventsv1', namespace }, fieldSelector: `regarding.name=${podName}` },
    ];
    if (this.options.serviceName !== undefined) {
      targets.push({
        name: 'endpointslice',
        source: 'endpointslice',
        what: { resource: 'endpointslices', namespace },
        labelSelector: `kubernetes.io/service-name=${this.options.serviceName}`,
      });
    }
    const [podWatch, ...others] = targets.map((target) => this.#add(target));
    try {
      // The others watch from the pod LIST's resourceVersion: nothing about the pod exists before its POST.
      const listedAt = await podWatch!.start();
      await Promise.all(others.map((watch) => watch.start(listedAt)));
    } catch (error) {
      this.stop();
      throw error;
    }
  }

  /** Resolves when the pod watch has seen the pod deleted (or `podGone()` was called). */
  waitUntilGone(signal?: AbortSignal): Promise<void> {
    if (this.#podGone) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#goneWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#goneWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Records that the pod no longer exists (a DELETED event, or a GET that returned 404). */
  markGone(how: string): void {
    if (this.#podGone) return;
    this.#podGone = true;
    this.log.client('pod-gone', { via: how });
    this.#gone.abort();
    for (const waiter of [...this.#goneWaiters]) waiter();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsubscribe();
    for (const watch of this.#watches) watch.stop();
    for (const waiter of [...this.#goneWaiters]) waiter();
  }

  #add(target: WatchTarget, options = this.options.watchOptions): ResilientWatch {
    const watch = new ResilientWatch(target, this.transport, this.log, options);
    this.#watches.push(watch);
    return watch;
  }

  #onObservation(observation: Observation): void {
    if (this.#stopped || observation.source !== 'pod') return;
    const pod = observation.object;
    if (!isRecord(pod)) return;
    const metadata = isRecord(pod['metadata']) ? pod['metadata'] : {};
    if (metadata['name'] !== this.options.podName) return;
    if (observation.type === 'DELETED') {
      this.markGone('watch');
      return;
    }
    const spec = isRecord(pod['spec']) ? pod['spec'] : {};
    const nodeName = spec['nodeName'];
    if (typeof nodeName === 'string' && nodeName !== '' && this.#nodeName === undefined) {
      this.#nodeName = nodeName;
      this.#watchNode(nodeName);
    }
  }

  #watchNode(nodeName: string): void {
    // Node access is often not granted to ordinary users: a 403 ends that watch (recorded as a gap), not the run.
    const optional: ResilientWatchOptions = { ...this.options.watchOptions, fatalKinds: ['forbidden', 'not-found'] };
    this.#add(
      { name: 'node', source: 'node', what: { resource: 'nodes' }, fieldSelector: `metadata.name=${nodeName}` },
      optional,
    ).startInBackground();
    this.#add(
      {
        name: 'node-event',
        source: 'event',
        what: { resource: 'events' },
        fieldSelector: `involvedObject.kind=Node,involvedObject.name=${nodeName}`,
      },
      optional,
    ).startInBackground();
    void readNode(this.transport, this.log, nodeName, () => !this.#stopped);
  }
}
