/** The trace's answers to "why did it fail" (outcome.cause, cause.ts) and "where did the time go" (explain, explain.ts). */

/** One step of the path to Ready, for `explain`. */
export interface ExplainPart {
  step: 'api' | 'schedule' | 'kubelet' | 'sandbox' | 'init' | 'image' | 'start' | 'readiness';
  label: string;
  ms: number;
  /** Of the time to Ready, 0..1. */
  share: number;
  /** The sum of its two ends' precisions. */
  precisionMs: number;
  /** What the evidence says about it: a pull's size and throughput, cold or warm, the probe's tries. */
  notes?: string[];
}

/** Where the time went, for a Ready pod (explain.ts). */
export interface Explanation {
  totalMs: number;
  /** A few sentences: the time to Ready and its largest steps, with their shares and facts. */
  summary: string;
  /** The path from the POST to Ready, step after step; the shares add up to 1. */
  parts: ExplainPart[];
  /** Waits the pod's own spec imposes (initialDelaySeconds, periodSeconds, init containers in sequence). */
  waits?: string[];
}

/** A cause's stable code (schema: causeCode). */
export type CauseCode =
  | 'liveness-probe-kill'
  | 'startup-probe-kill'
  | 'poststart-hook-failed'
  | 'oom-killed'
  | 'exited-error'
  | 'exited-zero'
  | 'init-container-failed'
  | 'completed'
  | 'node-not-ready'
  | 'readiness-probe-failing'
  | 'pvc-not-found'
  | 'pvc-unbound'
  | 'insufficient-resources'
  | 'untolerated-taint'
  | 'host-port-conflict'
  | 'node-selector-mismatch'
  | 'unschedulable-other'
  | 'run-as-non-root'
  | 'configmap-not-found'
  | 'secret-not-found'
  | 'configmap-key-not-found'
  | 'secret-key-not-found'
  | 'image-never-pull'
  | 'invalid-image-name'
  | 'create-container-error'
  | 'registry-unauthorized'
  | 'image-not-found'
  | 'repository-not-found'
  | 'tag-not-found'
  | 'registry-unreachable'
  | 'registry-pull-qps'
  | 'pull-failed'
  | 'quota-exceeded'
  | 'limit-range'
  | 'pod-security'
  | 'admission-policy'
  | 'admission-webhook'
  | 'invalid-spec'
  | 'rbac-forbidden'
  | 'name-taken'
  | 'sandbox-failed';

/**
 * Why the failure happened, from the evidence: `chain[0]` is the state podtrace saw, each next
 * link what caused the one before (the last, the components' own words), `hint` what to do about
 * that cause, `evidence` what each link rests on.
 */
export interface Cause {
  code: CauseCode;
  chain: string[];
  hint: string;
  evidence: string[];
}
