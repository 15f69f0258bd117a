import { buildContext } from '../trace/context.js';
import { milestoneTable } from '../trace/milestones.js';
import type { RecordingHeader } from '../trace/observation.js';
import { reconstruct } from '../trace/reconstruct.js';
import type { Trace } from '../trace/types.js';
import type { ObservationLog } from './observation-log.js';

export type TraceListener = (trace: Trace) => void;

/**
 * The trace so far, recomputed (at most once per turn of the event loop) when
 * observations arrive. The wait loop and the live progress both read it; the
 * watchers never do.
 */
export class LiveTrace {
  readonly #listeners = new Set<TraceListener>();
  readonly #unsubscribe: () => void;
  #scheduled = false;
  #closed = false;

  constructor(
    private readonly header: RecordingHeader,
    private readonly log: ObservationLog,
  ) {
    this.#unsubscribe = log.subscribe(() => this.schedule());
  }

  onUpdate(listener: TraceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Recompute soon (coalesced); also used by timers for rules that depend on elapsed time. */
  schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#closed && this.#listeners.size > 0) this.refresh();
    });
  }

  refresh(): Trace {
    const trace = reconstruct(this.header, this.log.observations);
    for (const listener of [...this.#listeners]) listener(trace);
    return trace;
  }

  /**
   * What is happening now, for the spinner: the step ending at the first
   * milestone after the latest one reached (in the table's order).
   */
  nextStep(trace: Trace): string | undefined {
    const table = milestoneTable(buildContext(this.header, this.log.observations));
    const reached = new Set(trace.milestones.map((m) => m.id));
    let last = -1;
    table.forEach((spec, index) => {
      if (reached.has(spec.id)) last = index;
    });
    const next = table
      .slice(last + 1)
      .find((spec) => !reached.has(spec.id) && !spec.failure && !spec.exclusiveWith?.some((id) => reached.has(id)));
    if (!next) return undefined;
    const suspected = trace.outcome.suspected;
    return suspected ? `${next.stepLabel} (${suspected.reason ?? suspected.class})` : next.stepLabel;
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    this.#listeners.clear();
  }
}
