/**
 * Where a collector says what it is doing. The CLI's spinner (commands/progress.ts)
 * implements it; tests and machine output use a silent one. Collectors never
 * write to a terminal themselves.
 */
import type { Trace } from '../trace/types.js';

export interface Progress {
  /** False when nothing but notes is shown: callers can skip computing updates. */
  readonly enabled: boolean;
  /** The step in progress, e.g. "waiting for the scheduler". */
  step(text: string): void;
  /** Prints the milestones of `trace` that were not printed yet, in time order. */
  update(trace: Trace, nextStep?: string): void;
  /** A line that must stay visible (warnings), printed above the spinner. */
  note(line: string): void;
  stop(): void;
}

/** Where lines that outlive the progress display go (stderr). */
export interface TextSink {
  write(chunk: string): unknown;
}
