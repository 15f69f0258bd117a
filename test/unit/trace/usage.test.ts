import { describe, expect, it } from 'vitest';
import { podEntryOfSummary } from '../../../src/collect/create/after-ready.js';
import { sampledContainers, usageFromMetricsApi, usageFromStatsPod } from '../../../src/trace/usage.js';

describe('--observe usage samples', () => {
  it('metrics.k8s.io: nanocore CPU and Ki memory, as metrics-server writes them', () => {
    const podMetrics = {
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'web', namespace: 'default' },
      containers: [{ name: 'web', usage: { cpu: '12345678n', memory: '5120Ki' } }, { name: 'side', usage: { cpu: '2m', memory: '1Mi' } }],
    };
    expect(usageFromMetricsApi(podMetrics)).toEqual([
      { name: 'web', cpuMillicores: expect.closeTo(12.345678, 9), memoryBytes: 5120 * 1024 },
      { name: 'side', cpuMillicores: 2, memoryBytes: 1048576 },
    ]);
    expect(sampledContainers({ source: 'metrics-api', podMetrics })).toEqual(usageFromMetricsApi(podMetrics));
  });

  it('stats summary: the collector keeps only the pod asked for; the trace reads millicores and bytes from it', () => {
    const summary = {
      pods: [
        { podRef: { name: 'web', namespace: 'other' }, containers: [{ name: 'web', cpu: { usageNanoCores: 1 } }] },
        { podRef: { name: 'web', namespace: 'default' }, containers: [{ name: 'web', cpu: { usageNanoCores: 2_500_000 }, memory: { workingSetBytes: 4096 } }] },
      ],
    };
    const entry = podEntryOfSummary(summary, 'default', 'web');
    expect(entry).toBe(summary.pods[1]);
    expect(usageFromStatsPod(entry)).toEqual([{ name: 'web', cpuMillicores: 2.5, memoryBytes: 4096 }]);
    expect(podEntryOfSummary(summary, 'default', 'gone')).toBeNull();
    expect(sampledContainers({ source: 'kubelet-stats', pod: null })).toEqual([]);
  });

  it('recordings made before raw readings were kept: the derived containers, as recorded', () => {
    const containers = [{ name: 'web', cpuMillicores: 1.5, memoryBytes: 10 }];
    expect(sampledContainers({ source: 'kubelet-stats', containers })).toEqual(containers);
  });
});
