/** `--observe` where the node proxy is refused: usage from metrics.k8s.io, asked again until metrics-server has the pod. */
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/exit-codes.js';
import { createInMemory, FakeCluster } from './fake-kube.js';

describe('--observe without the node proxy: metrics.k8s.io', () => {
  const podMetrics = {
    kind: 'PodMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: 'x', namespace: 'default' },
    timestamp: '2026-12-06T21:00:00Z',
    window: '10s',
    containers: [{ name: 'nginx', usage: { cpu: '2m', memory: '8Mi' } }],
  };

  it('asks again while metrics-server has not scraped the pod yet, then samples it', async () => {
    const cluster = new FakeCluster({ statsForbidden: true, podMetrics: ['not-found', 'not-found', podMetrics] });
    const { code, stdout } = await createInMemory(['nginx', '--observe', '4s', '-o', 'json'], { cluster });
    expect(code).toBe(EXIT.ok);
    const usage = JSON.parse(stdout).observed.usage;
    expect(usage.source).toBe('metrics-api');
    expect(usage.error).toBeUndefined();
    expect(usage.samples.length).toBeGreaterThanOrEqual(1);
    expect(cluster.apiCalls.filter((c) => c.startsWith('podMetrics ')).length).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it('never answered within the window: one error, said once', async () => {
    const cluster = new FakeCluster({ statsForbidden: true });
    const { code, stdout } = await createInMemory(['nginx', '--observe', '2s', '-o', 'json'], { cluster });
    expect(code).toBe(EXIT.ok);
    const usage = JSON.parse(stdout).observed.usage;
    expect(usage.samples).toEqual([]);
    expect(usage.error).toMatch(/^no resource usage: neither the node's stats summary \(nodes\/proxy\) nor metrics\.k8s\.io answered \(.*not found/);
  }, 20_000);
});
