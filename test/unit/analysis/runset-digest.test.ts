import { describe, expect, it } from 'vitest';
import { RunDigests, type RunDigest } from '../../../src/analysis/runset-digest.js';
import { EXIT } from '../../../src/exit-codes.js';

const ready = (pull: number, extra: Record<string, number> = {}): RunDigest => ({
  outcome: 'ready',
  exitCode: EXIT.ok,
  pulls: ['pulled'],
  metrics: { pull, ...extra },
});

describe('RunDigests', () => {
  it('gives back each metric over the runs that have it, in order, across growth past its first size', () => {
    const digests = new RunDigests();
    for (let i = 0; i < 200; i++) digests.append(ready(i));
    // a metric first seen at run 150: the runs before have none (not 0)
    digests.append(ready(200, { readiness: 7 }));
    digests.append({ outcome: 'crash-loop', exitCode: EXIT.crashLoop, pulls: ['present', 'pulled'], metrics: { readiness: 9 } });
    expect(digests.length).toBe(202);
    expect(digests.metricValues('pull')).toEqual(Array.from({ length: 201 }, (_, i) => i));
    expect(digests.metricValues('readiness')).toEqual([7, 9]);
    expect(digests.metricValues('nothing')).toEqual([]);
    expect(digests.outcomes().slice(-3)).toEqual(['ready', 'ready', 'crash-loop']);
    expect(digests.pulls().slice(-3)).toEqual(['pulled', 'present', 'pulled']);
    expect(digests.firstFailureExit()).toBe(EXIT.crashLoop);
  });

  it('replaces a run whole: its old metrics go, and its outcome and exit code are the new ones', () => {
    const digests = RunDigests.of([ready(10, { readiness: 5 }), ready(20)]);
    digests.replace(0, { outcome: 'timeout', exitCode: EXIT.timeout, pulls: [], metrics: { schedule: 3 } });
    expect(digests.metricValues('pull')).toEqual([20]);
    expect(digests.metricValues('readiness')).toEqual([]);
    expect(digests.metricValues('schedule')).toEqual([3]);
    expect(digests.outcomes()).toEqual(['timeout', 'ready']);
    expect(digests.pulls()).toEqual(['pulled']);
    expect(digests.firstFailureExit()).toBe(EXIT.timeout);
    expect(() => digests.replace(2, ready(1))).toThrow(RangeError);
  });

  it('has no failure when every run ended well, or none had an exit code', () => {
    expect(RunDigests.of([ready(1), ready(2)]).firstFailureExit()).toBeUndefined();
    expect(RunDigests.of([{ outcome: 'ready', exitCode: null, pulls: [], metrics: {} }]).firstFailureExit()).toBeUndefined();
  });
});
