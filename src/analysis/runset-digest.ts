/**
 * What the end-of-run summary needs of each run, and nothing more: its outcome, its exit code, how
 * each container's image was had, and its metric values. `podtrace watch` keeps one of these per
 * pod traced (a few hundred bytes) instead of the pod's whole trace, so that its memory follows the
 * pods in flight, not the pods traced; the quantiles over them stay exact.
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

/** The exit code of the first run (in the set's order) that did not end well, if one did not. */
export function firstFailureExit(runs: readonly RunDigest[]): ExitCode | undefined {
  return runs.find((r) => r.exitCode !== null && r.exitCode !== EXIT.ok)?.exitCode ?? undefined;
}
