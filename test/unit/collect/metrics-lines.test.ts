import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KEPT_FAMILIES, keptLines } from '../../../src/collect/metrics.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/doctor/${name}`, import.meta.url), 'utf8');

/** The rule, line by line: a kept family's _sum or _count series, the per-resource ones only for pods. */
function byLine(text: string, component: 'apiserver' | 'kubelet'): string[] {
  const names = KEPT_FAMILIES[component].flatMap((f) => [`${f}_sum`, `${f}_count`]);
  return text.split('\n').filter((line) => {
    const name = names.find((n) => line.startsWith(n) && (line[n.length] === '{' || line[n.length] === ' '));
    if (name === undefined) return false;
    return !/^(apiserver_request_duration_seconds|etcd_request_duration_seconds)_/.test(line) || line.includes('resource="pods"');
  });
}

describe('keptLines', () => {
  it("keeps what the rule keeps, in the text's order, from a real API server's and kubelet's /metrics", () => {
    for (const [file, component] of [['apiserver-metrics.txt', 'apiserver'], ['kubelet-metrics.txt', 'kubelet']] as const) {
      const text = fixture(file);
      const kept = keptLines(text, component);
      expect(kept.length).toBeGreaterThan(10);
      expect(kept).toEqual(byLine(text, component));
    }
    // the API server's keeps the pods' request and storage series, and no other resource's
    const apiserver = keptLines(fixture('apiserver-metrics.txt'), 'apiserver');
    expect(apiserver.some((l) => l.startsWith('apiserver_request_duration_seconds_sum') && l.includes('resource="pods"'))).toBe(true);
    expect(apiserver.some((l) => l.startsWith('etcd_request_duration_seconds') && !l.includes('resource="pods"'))).toBe(false);
  });

  it('takes a name only where a series starts: not in a comment, not as the start of a longer name, and a last line without its newline', () => {
    const text = [
      '# HELP kubelet_pod_worker_duration_seconds_count is not a series',
      'x_kubelet_pod_worker_duration_seconds_count 9',
      'kubelet_pod_worker_duration_seconds_count_total 8',
      'kubelet_pod_worker_duration_seconds_sum{operation_type="create"} 0.5',
      'kubelet_pod_worker_duration_seconds_count{operation_type="create"} 2',
      'kubelet_pod_start_sli_duration_seconds_count 3',
    ].join('\n');
    expect(keptLines(text, 'kubelet')).toEqual([
      'kubelet_pod_worker_duration_seconds_sum{operation_type="create"} 0.5',
      'kubelet_pod_worker_duration_seconds_count{operation_type="create"} 2',
      'kubelet_pod_start_sli_duration_seconds_count 3',
    ]);
  });
});
