import { describe, expect, it } from 'vitest';
import { usageFromMetricsApi, usageFromStatsSummary } from '../../../src/commands/usage.js';

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
  });

  it('stats summary: only the pod asked for, in millicores and bytes', () => {
    const summary = {
      pods: [
        { podRef: { name: 'web', namespace: 'other' }, containers: [{ name: 'web', cpu: { usageNanoCores: 1 } }] },
        { podRef: { name: 'web', namespace: 'default' }, containers: [{ name: 'web', cpu: { usageNanoCores: 2_500_000 }, memory: { workingSetBytes: 4096 } }] },
      ],
    };
    expect(usageFromStatsSummary(summary, 'default', 'web')).toEqual([{ name: 'web', cpuMillicores: 2.5, memoryBytes: 4096 }]);
    expect(usageFromStatsSummary(summary, 'default', 'gone')).toEqual([]);
  });
});
