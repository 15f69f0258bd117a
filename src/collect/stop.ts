/**
 * SIGINT and SIGTERM, for every command that runs until something happens
 * (create, create --runs, watch): the first signal asks the run to stop (it
 * cleans up and saves what it has), a second one exits at once. One
 * controller lives for the whole command; whoever is running at that moment
 * says what "at once" means (create prints the cleanup command first).
 */
import { EXIT, type ExitCode } from '../exit-codes.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface SignalSource {
  on(signal: StopSignal, handler: () => void): unknown;
  off(signal: StopSignal, handler: () => void): unknown;
}

/** The exit code of a run ended by a signal: 130 for SIGINT, 143 for SIGTERM (128 + the signal's number). */
export function exitCodeFor(signal: StopSignal): ExitCode {
  return signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
}

export class StopController {
  #stoppedBy: StopSignal | undefined;
  readonly #abort = new AbortController();
  readonly #listeners = new Set<(signal: StopSignal) => void>();
  #onSecond: ((signal: StopSignal) => void) | undefined;
  readonly #handlers: Array<[StopSignal, () => void]>;

  constructor(
    private readonly source: SignalSource,
    private readonly exit: (code: number) => void,
  ) {
    this.#handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => [signal, () => this.#received(signal)]);
    for (const [signal, handler] of this.#handlers) source.on(signal, handler);
  }

  /** The first signal received, if any. */
  get stoppedBy(): StopSignal | undefined {
    return this.#stoppedBy;
  }

  /** Aborted at the first signal: waits and pauses end on it. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Called once, at the first signal. */
  onStop(listener: (signal: StopSignal) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * What a second signal does while this part runs, before the process exits
   * with the signal's code (print the cleanup command, stop the spinner).
   */
  onSecondStop(action: (signal: StopSignal) => void): () => void {
    this.#onSecond = action;
    return () => {
      if (this.#onSecond === action) this.#onSecond = undefined;
    };
  }

  /** Removes the signal handlers: a signal after this gets the default behaviour. */
  dispose(): void {
    for (const [signal, handler] of this.#handlers) this.source.off(signal, handler);
    this.#listeners.clear();
  }

  #received(signal: StopSignal): void {
    if (this.#stoppedBy === undefined) {
      this.#stoppedBy = signal;
      this.#abort.abort();
      for (const listener of [...this.#listeners]) listener(signal);
      return;
    }
    this.#onSecond?.(signal);
    this.exit(exitCodeFor(signal));
  }
}

/** Waits ms, or less when the signal aborts first. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
