import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, traceMetrics } from '../../../src/analysis/metrics.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { loadFixture } from './recording-files.js';

const trace = (name: string) => {
  const { header, observations } = loadFixture(name);
  return reconstruct(header, observations);
};

describe('traceMetrics on real recordings', () => {
  it('times a cold nginx start end to end, with the pull inside it', () => {
    const t = trace('ready-nginx-cold.ndjson');
    const m = traceMetrics(t);
    expect(Object.keys(m)).toEqual(METRIC_NAMES.filter((n) => n in m));
    expect(m.ready).toBeCloseTo(t.outcome.readyAfterMs!, 2); // the outcome rounds to the µs
    expect(m.pull).toBeGreaterThan(100);
    expect(m.pull).toBe(t.containers[0]!.pullMs);
    expect(m.pull!).toBeLessThan(m.ready!);
    // the steps of the start add up to no more than the whole
    const parts = ['api', 'schedule', 'kubelet', 'sandbox'].map((k) => m[k] ?? 0);
    expect(parts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(m.ready!);
    expect(m.teardown).toBeGreaterThan(0);
    expect(m.client).toBeGreaterThan(0);
  });

  it('counts no pull time when the image was already present', () => {
    const m = traceMetrics(trace('ready-nginx-warm.ndjson'));
    expect(m.pull).toBe(0);
    expect(m.ready).toBeGreaterThan(0);
  });

  it('has no ready time for a pod that never became Ready', () => {
    const m = traceMetrics(trace('image-pull-not-found-doesnotexist.ndjson'));
    expect(m.ready).toBeUndefined();
    expect(m.api).toBeGreaterThan(0);
  });

  it('makes readiness the probe wait of slow-ready', () => {
    const m = traceMetrics(trace('ready-slow-ready.ndjson'));
    expect(m.readiness).toBeGreaterThan(1500); // READY_AFTER=3 with a 1 s probe period
  });
});
