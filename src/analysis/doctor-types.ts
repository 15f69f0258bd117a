/** What `podtrace doctor` concludes: its checks, the precision each step will get, the components' figures. */
import type { SourceRef } from '../trace/step-sources.js';
import type { Component } from '../trace/types.js';

/**
 * ok: the source is there. improve: missing or limited, and `change` says
 * what would give it. unknown: podtrace could not tell, and `change` says how
 * it could. info: what the trace shows, with nothing for podtrace to gain.
 */
export type CheckStatus = 'ok' | 'improve' | 'unknown' | 'info';

export type CheckId = 'cluster' | 'access' | 'apiserver-spans' | 'kubelet-spans' | 'kubelet-events' | 'image-pulls' | 'apiserver-metrics' | 'kubelet-metrics' | 'audit';

export interface DoctorCheck {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** What was found, one line. */
  found: string;
  /** The one change that would improve it (or make it checkable), one line. */
  change?: string;
}

export interface StepPrecision {
  /** The milestone's id (`container.*.started` for each container's). */
  id: string;
  label: string;
  component: Component;
  /** The best source this cluster gives the step; absent: none, the step is left out of traces. */
  source?: SourceRef;
  /** The source's precision (ms), when it is fixed; a watch sighting's is measured in each run. */
  precisionMs?: number;
  measuredPerRun?: true;
  /** The best source the step could have that this cluster does not give, and the check whose change gives it. */
  better?: { source: SourceRef; check: CheckId };
  note?: string;
}

export interface FigurePlan {
  id: string;
  label: string;
  component: Component;
  /** Whose /metrics has it. */
  from: 'apiserver' | 'kubelet';
  family: string;
  /**
   * exact-when-quiet: readable; the trace gives it as this pod's own when the
   * count moved by this pod's operations alone, else says it was shared.
   * no-series: readable, but no such operation since the component started.
   * not-readable: /metrics could not be read.
   */
  status: 'exact-when-quiet' | 'no-series' | 'not-readable';
  check: CheckId;
}

export interface DoctorReport {
  kind: 'podtrace-doctor';
  schemaVersion: 1;
  toolVersion: string;
  cluster: { context: string; server: string; version: string; user: string; namespace: string; username?: string };
  /** ok: every check ok or info; improve: at least one is improve or unknown. */
  verdict: 'ok' | 'improve';
  exitCode: number;
  checks: DoctorCheck[];
  steps: StepPrecision[];
  figures: FigurePlan[];
}
