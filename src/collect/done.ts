/**
 * When a collector is done with a pod, decided from its trace so far (never
 * from a raw field): Ready, failed for good, failed and settled for a while
 * (create only: a watch waits for the pod's owner to act), or gone.
 */
import { isTerminalFailure, settledFailure } from '../trace/outcome.js';
import type { Trace } from '../trace/types.js';

export type DoneReason = 'ready' | 'failed' | 'gone';

export interface DoneRule {
  podGone: boolean;
  now: number;
  /** A failure that might still clear up ends the wait after holding this long (omitted: never). */
  settleAfterMs?: number;
  /** Ready is not enough yet (create --expose waits for the Service's endpoint too). */
  readyIsNotEnough?: boolean;
}

export function doneReason(trace: Trace, rule: DoneRule): DoneReason | undefined {
  if (trace.outcome.class === 'ready' && !rule.readyIsNotEnough) return 'ready';
  if (isTerminalFailure(trace)) return 'failed';
  if (rule.settleAfterMs !== undefined && settledFailure(trace, rule.now, rule.settleAfterMs)) return 'failed';
  if (rule.podGone) return 'gone';
  return undefined;
}
