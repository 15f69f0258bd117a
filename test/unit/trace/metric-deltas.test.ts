/**
 * The components' histograms, before and after, on real recordings: a quiet
 * node gives this pod's operations exactly; with another pod starting beside
 * it the same histograms move by two and the figure is not used as a step.
 */
import { describe, expect, it } from 'vitest';
import { parseMetricLines } from '../../../src/trace/metric-deltas.js';
import type { Observation } from '../../../src/trace/observation.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { loadFixture } from './recording-files.js';

function traceOf(file: string, keep: (o: Observation) => boolean = () => true) {
  const { header, observations } = loadFixture(file);
  return reconstruct(header, observations.filter(keep));
}

describe('metric deltas', () => {
  it('quiet node: one etcd write, one POST, one RunPodSandbox, CreateContainer and StartContainer each: exact, with their sums', () => {
    const metrics = traceOf('ready-metrics-quiet.ndjson').metrics!;
    const step = (id: string) => metrics.steps.find((s) => s.id === id)!;
    for (const id of ['apiserver.post', 'apiserver.etcd-write', 'kubelet.run-pod-sandbox', 'kubelet.create-container', 'kubelet.start-container', 'kubelet.pod-cgroup']) {
      expect(step(id), id).toMatchObject({ exact: true, count: 1, expected: 1 });
      expect(step(id).durationMs, id).toBe(step(id).sumMs);
      expect(step(id).sharedWith, id).toBeUndefined();
    }
    expect(step('apiserver.etcd-write').durationMs!).toBeLessThan(step('apiserver.post').durationMs!);
    expect(step('apiserver.etcd-write')).toMatchObject({ from: 'before', to: 'after-post' });
    expect(step('kubelet.start-container')).toMatchObject({ from: 'before', to: 'after' });
    // admission moves for every Event and binding too: never passed off as the pod's
    expect(step('apiserver.admission-admit').exact).toBe(false);
    expect(step('apiserver.admission-admit').sharedWith!).toBeGreaterThan(0);
    expect(step('apiserver.admission-admit').durationMs).toBeUndefined();
  });

  it('another pod starting beside it: the CRI counts moved by two, shared with one other, no duration', () => {
    const metrics = traceOf('ready-metrics-shared.ndjson').metrics!;
    const sandbox = metrics.steps.find((s) => s.id === 'kubelet.run-pod-sandbox')!;
    expect(sandbox).toMatchObject({ exact: false, count: 2, expected: 1, sharedWith: 1 });
    expect(sandbox.durationMs).toBeUndefined();
    expect(metrics.notes.join('\n')).toMatch(/shared with other operations/);
  });

  it('without the kubelet reading before the POST: no kubelet delta, and a note says why', () => {
    const metrics = traceOf('ready-metrics-quiet.ndjson', (o) => !(o.type === 'metrics-sample' && o.data?.['component'] === 'kubelet' && o.data?.['phase'] === 'before')).metrics!;
    expect(metrics.steps.filter((s) => s.id.startsWith('kubelet.'))).toEqual([]);
    expect(metrics.notes.join('\n')).toMatch(/was not read before the POST/);
  });

  it('a reading that failed is a note, not a step', () => {
    const { header, observations } = loadFixture('ready-metrics-quiet.ndjson');
    const failed = observations.map((o) =>
      o.type === 'metrics-sample' && o.data?.['component'] === 'apiserver' ? { ...o, data: { component: 'apiserver', phase: o.data['phase'], error: 'forbidden' } } : o,
    );
    const metrics = reconstruct(header, failed).metrics!;
    expect(metrics.steps.filter((s) => s.id.startsWith('apiserver.'))).toEqual([]);
    expect(metrics.notes.join('\n')).toMatch(/not read: apiserver \(before\): forbidden/);
  });

  it('recordings without metric readings have no metrics section', () => {
    expect(traceOf('ready-nginx.ndjson').metrics).toBeUndefined();
  });

  it('parses exposition lines, keeping the series key as written and skipping comments and junk', () => {
    const series = parseMetricLines(['# HELP x y', 'a_count{b="c d"} 3', 'a_sum{b="c d"} 0.25', 'junk', 7]);
    expect([...series]).toEqual([
      ['a_count{b="c d"}', 3],
      ['a_sum{b="c d"}', 0.25],
    ]);
  });
});
