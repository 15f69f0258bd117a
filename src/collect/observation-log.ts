import type { ClientObservationType, Observation, ObservationSource } from '../trace/observation.js';

/** The client clock: ms since the Unix epoch with a sub-millisecond fraction. */
export interface Clock {
  now(): number;
}

/** performance.now() is monotonic and sub-ms; anchoring it at timeOrigin gives epoch ms that never jump back. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
};

export type ObservationListener = (observation: Observation) => void;

/**
 * The single sink every watcher and client step writes to: it numbers the
 * observations in arrival order and stamps them with the client clock.
 * `podtrace watch` hands each observation to its listeners and keeps none
 * (`retain: false`): each pod keeps its own share, and only while it starts.
 */
export class ObservationLog {
  readonly observations: Observation[] = [];
  readonly #listeners = new Set<ObservationListener>();
  readonly #retain: boolean;
  #seq = 0;

  constructor(
    readonly clock: Clock = systemClock,
    options: { retain?: boolean } = {},
  ) {
    this.#retain = options.retain ?? true;
  }

  /** An API object seen on a watch (or a LIST item). */
  object(source: Exclude<ObservationSource, 'client'>, type: string, object: unknown): Observation {
    return this.#append({ seq: this.#seq++, source, type, observedAt: this.clock.now(), object });
  }

  /** Something podtrace itself did or measured. */
  client(type: ClientObservationType, data: Record<string, unknown> = {}, observedAt = this.clock.now()): Observation {
    return this.#append({ seq: this.#seq++, source: 'client', type, observedAt, data });
  }

  subscribe(listener: ObservationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #append(observation: Observation): Observation {
    if (this.#retain) this.observations.push(observation);
    for (const listener of this.#listeners) {
      try {
        listener(observation);
      } catch {
        // A listener (progress display, node discovery) must never break recording.
      }
    }
    return observation;
  }
}
