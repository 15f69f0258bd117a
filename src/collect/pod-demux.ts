/**
 * `podtrace watch` sees a whole namespace on three watches; this gives each
 * pod its share of what they deliver: its own pod objects and events, plus
 * what every pod shares (node facts, node events, watch gaps). Pods that
 * existed before the watch are left out. Pure bookkeeping: it decides nothing
 * about when a pod is done.
 */
import type { Observation } from '../trace/observation.js';
import { shareUnchanged } from './share-unchanged.js';

/** One pod's share of the observations. */
export interface TrackedPod {
  name: string;
  uid?: string;
  observations: Observation[];
  /** Done (Ready, failed or gone): its trace is being built or was. */
  done: boolean;
  /**
   * How many shared observations the trace takes in: all of them until it is
   * written, then those up to that moment. A watch gap or a node event long
   * after a pod was done is not part of its trace.
   */
  sharedUntil?: number;
}

/** Client observations every pod's trace takes in. */
const SHARED_CLIENT_TYPES = new Set(['kubeconfig-loaded', 'watch-gap', 'relist', 'watch-started', 'node-info']);
/** Bounded: events about pods that never match the selector must not pile up. */
const MAX_EARLY_EVENTS = 10_000;

function meta(object: unknown): { name?: string; uid?: string; nodeName?: string; created: number } {
  const o = object as { metadata?: { name?: string; uid?: string; creationTimestamp?: string }; spec?: { nodeName?: string } } | undefined;
  return { name: o?.metadata?.name, uid: o?.metadata?.uid, nodeName: o?.spec?.nodeName, created: Date.parse(o?.metadata?.creationTimestamp ?? '') };
}

/** Which pod an event regards (core involvedObject or events.k8s.io regarding). */
function regarding(event: unknown): { kind?: string; name?: string; uid?: string } {
  const e = event as { involvedObject?: { kind?: string; name?: string; uid?: string }; regarding?: { kind?: string; name?: string; uid?: string } };
  return e?.involvedObject ?? e?.regarding ?? {};
}

/**
 * A watched object without metadata.managedFields: which manager set which field is no part of a
 * pod's start, and it is a third of a pod object's size; `watch` keeps each starting pod's
 * objects until its trace is written. (create's recordings keep objects whole.)
 */
export function withoutManagedFields(o: Observation): Observation {
  const metadata = (o.object as { metadata?: { managedFields?: unknown } } | undefined)?.metadata;
  if (metadata?.managedFields !== undefined) delete metadata.managedFields;
  return o;
}

/** The object of the pod's latest observation from `source`. */
function lastObjectOf(observations: readonly Observation[], source: Observation['source']): unknown {
  for (let i = observations.length - 1; i >= 0; i--) if (observations[i]!.source === source) return observations[i]!.object;
  return undefined;
}

export interface DemuxListener {
  /** A pod observation reached a pod that is not done yet. */
  podChanged(pod: TrackedPod, observation: Observation): void;
  /** Something arrived for a pod that is done (its trace may change). */
  doneChanged(pod: TrackedPod): void;
  /** The pod is bound to a node not seen before. */
  newNode(nodeName: string): void;
}

export class PodDemux {
  readonly pods = new Map<string, TrackedPod>();
  /** Observations every pod shares: node facts, node events, watch gaps. */
  readonly shared: Observation[] = [];
  readonly #nodes = new Set<string>();
  /** Events about pods not (yet) tracked: a Scheduled event can overtake the pod's ADDED on its own stream. */
  readonly #early = new Map<string, Observation[]>();
  #earlyCount = 0;
  /** Pods seen but not traced (they existed before the watch). */
  readonly #listed = new Set<string>();
  /** Pods whose trace is final: only their name is kept, so that what comes later about them is dropped. */
  readonly #frozen = new Set<string>();
  /** The pod watch's initial LIST is over: what comes now is new. */
  initialListDone = false;
  /** The last pod object kept: a new pod's first version shares what it repeats of it (a Deployment's pods are alike). */
  #lastPodObject: unknown;

  constructor(
    private readonly startedAt: number,
    private readonly listener: DemuxListener,
  ) {}

  route(o: Observation): void {
    if (o.source === 'pod') return this.#routePod(o);
    if (o.source === 'event' || o.source === 'eventsv1') return this.#routeEvent(o);
    if (o.source === 'client' && SHARED_CLIENT_TYPES.has(o.type)) this.shared.push(o);
  }

  /** The pod's own observations and the shared ones, in arrival order. */
  observationsOf(pod: TrackedPod): Observation[] {
    return [...pod.observations, ...this.shared.slice(0, this.sharedCount(pod))].sort((a, b) => a.seq - b.seq);
  }

  /** The pod's trace is final: its observations go, and it leaves `pods` (its name stays known). */
  freeze(pod: TrackedPod): void {
    pod.observations = [];
    this.#frozen.add(pod.name);
    this.pods.delete(pod.name);
  }

  sharedCount(pod: TrackedPod): number {
    return pod.sharedUntil ?? this.shared.length;
  }

  #routePod(o: Observation): void {
    const { name, uid, nodeName, created } = meta(o.object);
    if (name === undefined || this.#frozen.has(name)) return;
    let pod = this.pods.get(name);
    if (!pod) {
      // Pods that existed before the watch are not traced: they show up first in the initial LIST.
      // A pod first seen in a relist (after a gap) is traced when it was created after the start.
      if (this.#listed.has(name)) return;
      const newInRelist = o.type === 'LIST' && this.initialListDone && created >= Math.floor(this.startedAt / 1000) * 1000;
      if (o.type !== 'ADDED' && !newInRelist) {
        this.#listed.add(name);
        return;
      }
      pod = { name, ...(uid ? { uid } : {}), observations: [], done: false };
      this.pods.set(name, pod);
      for (const e of this.#early.get(name) ?? []) {
        const r = regarding(e.object);
        if (r.uid === undefined || uid === undefined || r.uid === uid) pod.observations.push(e);
      }
      this.#early.delete(name);
    }
    pod.observations.push(this.#sharing(o, lastObjectOf(pod.observations, 'pod') ?? this.#lastPodObject));
    this.#lastPodObject = o.object;
    if (nodeName && !this.#nodes.has(nodeName)) {
      this.#nodes.add(nodeName);
      this.listener.newNode(nodeName);
    }
    if (!pod.done) this.listener.podChanged(pod, o);
    else this.listener.doneChanged(pod);
  }

  #routeEvent(o: Observation): void {
    const r = regarding(o.object);
    if (r.kind === 'Node') {
      this.shared.push(o);
      return;
    }
    // events about other objects (a ReplicaSet's SuccessfulCreate, one per pod it makes) are no pod's
    if (r.name === undefined || (r.kind !== undefined && r.kind !== 'Pod') || this.#frozen.has(r.name)) return;
    const pod = this.pods.get(r.name);
    if (pod && (r.uid === undefined || pod.uid === undefined || r.uid === pod.uid)) {
      pod.observations.push(this.#sharing(o, lastObjectOf(pod.observations, o.source)));
      if (pod.done) this.listener.doneChanged(pod);
    } else if (!pod && this.initialListDone && o.type !== 'LIST') {
      this.#keepEarly(r.name, o);
    }
  }

  /**
   * The observation with its object sharing the parts it repeats of `prev` (an earlier version of
   * the pod or event): memory follows the pods in flight, and a pod's versions repeat most of it.
   */
  #sharing(o: Observation, prev: unknown): Observation {
    if (prev !== undefined && o.object !== undefined) o.object = shareUnchanged(prev, o.object);
    return o;
  }

  #keepEarly(name: string, o: Observation): void {
    if (this.#earlyCount >= MAX_EARLY_EVENTS) {
      this.#early.clear();
      this.#earlyCount = 0;
    }
    const early = this.#early.get(name);
    if (early) early.push(o);
    else this.#early.set(name, [o]);
    this.#earlyCount += 1;
  }
}
