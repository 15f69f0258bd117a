/**
 * What the end-of-run summary needs of each run, and nothing more: its outcome, its exit code, how
 * each container's image was had, and its metric values. `podtrace watch` keeps these for every
 * pod traced instead of the pod's trace, in columns (RunDigests): a number per metric and a small
 * index for the rest, a few dozen bytes a run, so that its memory follows the pods in flight, not
 * the pods traced; the quantiles over them stay exact.
 */
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { OutcomeClass, Trace } from '../trace/types.js';
import { traceMetrics } from './metrics.js';

export interface RunDigest {
  outcome: OutcomeClass;
  exitCode: ExitCode | null;
  /** Per container: 'pulled', 'present', or what became of the pull. */
  pulls: string[];
  /** The run's value of each metric it has one for (analysis/metrics.ts). */
  metrics: Record<string, number>;
}

export function digestRun(trace: Trace): RunDigest {
  return {
    outcome: trace.outcome.class,
    exitCode: trace.outcome.exitCode,
    pulls: trace.containers.map((c) => c.pull),
    metrics: traceMetrics(trace),
  };
}

/** A growable column of numbers; NaN where a run has none. */
class Column {
  values = new Float64Array(64).fill(NaN);

  set(index: number, value: number): void {
    if (index >= this.values.length) {
      const grown = new Float64Array(Math.max(index + 1, this.values.length * 2)).fill(NaN);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[index] = value;
  }
}

/** Strings that repeat from run to run (an outcome, the pulls of a pod's containers), each kept once. */
class Dictionary {
  readonly #ids = new Map<string, number>();
  readonly strings: string[] = [];

  id(value: string): number {
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.strings.length;
      this.#ids.set(value, id);
      this.strings.push(value);
    }
    return id;
  }
}

/** The digests of a set's runs, by index, in columns. */
export class RunDigests {
  #length = 0;
  readonly #outcomes = new Dictionary();
  readonly #pulls = new Dictionary();
  readonly #outcome = new Column();
  readonly #pull = new Column();
  /** The exit code, NaN for none. */
  readonly #exit = new Column();
  readonly #metrics = new Map<string, Column>();

  static of(runs: Iterable<RunDigest>): RunDigests {
    const digests = new RunDigests();
    for (const run of runs) digests.append(run);
    return digests;
  }

  get length(): number {
    return this.#length;
  }

  append(digest: RunDigest): number {
    const index = this.#length;
    this.#length += 1;
    this.#write(index, digest);
    return index;
  }

  replace(index: number, digest: RunDigest): void {
    if (index < 0 || index >= this.#length) throw new RangeError(`no run ${index} among ${this.#length}`);
    for (const column of this.#metrics.values()) column.set(index, NaN);
    this.#write(index, digest);
  }

  #write(index: number, digest: RunDigest): void {
    this.#outcome.set(index, this.#outcomes.id(digest.outcome));
    // the container's pulls are joined by a newline, which no pull's description holds
    this.#pull.set(index, this.#pulls.id(digest.pulls.join('\n')));
    this.#exit.set(index, digest.exitCode ?? NaN);
    for (const [name, value] of Object.entries(digest.metrics)) {
      let column = this.#metrics.get(name);
      if (!column) this.#metrics.set(name, (column = new Column()));
      column.set(index, value);
    }
  }

  /** Every run's outcome, in order. */
  outcomes(): OutcomeClass[] {
    return Array.from({ length: this.#length }, (_, i) => this.#outcomes.strings[this.#outcome.values[i]!] as OutcomeClass);
  }

  /** Every container's pull, run after run. */
  pulls(): string[] {
    return Array.from({ length: this.#length }, (_, i) => this.#pulls.strings[this.#pull.values[i]!]!).flatMap((p) => (p === '' ? [] : p.split('\n')));
  }

  /** The metric's values over the runs that have one, in run order. */
  metricValues(name: string): number[] {
    const column = this.#metrics.get(name);
    const values: number[] = [];
    if (!column) return values;
    for (let i = 0; i < this.#length; i++) {
      const v = column.values[i]!;
      if (!Number.isNaN(v)) values.push(v);
    }
    return values;
  }

  /** The exit code of the first run (in the set's order) that did not end well, if one did not. */
  firstFailureExit(): ExitCode | undefined {
    for (let i = 0; i < this.#length; i++) {
      const code = this.#exit.values[i]!;
      if (!Number.isNaN(code) && code !== EXIT.ok) return code as ExitCode;
    }
    return undefined;
  }
}
