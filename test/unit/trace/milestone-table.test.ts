import { describe, expect, it } from 'vitest';
import { buildContext, containerRefs } from '../../../src/trace/context.js';
import { milestoneTable } from '../../../src/trace/milestones.js';
import type { RecordingHeader } from '../../../src/trace/observation.js';

const header: RecordingHeader = {
  kind: 'podtrace-recording',
  version: 1,
  toolVersion: '0.1.0',
  startedAt: 1_764_002_400_000,
  namespace: 'default',
  podName: 'web',
  options: { keep: false, timeoutMs: 60_000 },
};

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: 'u-1', creationTimestamp: '2025-11-24T16:40:00Z' },
  spec: {
    initContainers: [
      { name: 'migrate', image: 'busybox:1.36' },
      { name: 'log', image: 'fluent-bit:3', restartPolicy: 'Always' },
    ],
    containers: [
      { name: 'app', image: 'nginx:1.27' },
      { name: 'metrics', image: 'exporter:1' },
    ],
  },
};

describe('milestone table', () => {
  const ctx = buildContext(header, [
    { seq: 0, source: 'client', type: 'post-response', observedAt: header.startedAt + 50, data: { status: 201, pod } },
  ]);

  it('orders init containers first, then initialization, then app containers, then readiness', () => {
    const ids = milestoneTable(ctx).map((s) => s.id);
    const at = (id: string) => {
      const i = ids.indexOf(id);
      expect(i, id).toBeGreaterThanOrEqual(0);
      return i;
    };
    const order = [
      'api.post-sent',
      'api.accepted',
      'scheduler.scheduled',
      'kubelet.acknowledged',
      'runtime.sandbox-ready',
      'container.migrate.pulling',
      'container.migrate.started',
      'container.migrate.completed',
      'container.log.started',
      'container.log.ready',
      'pod.initialized',
      'container.app.pulled',
      'container.app.started',
      'container.metrics.started',
      'container.app.ready',
      'container.metrics.ready',
      'pod.containers-ready',
      'pod.ready',
      'teardown.delete-sent',
      'teardown.pod-gone',
    ].map(at);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(ids).not.toContain('container.log.completed'); // a sidecar keeps running
    expect(ids).not.toContain('container.migrate.ready');
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names only known rows in `after`, each listed before the row that needs it', () => {
    const table = milestoneTable(ctx);
    const index = new Map(table.map((s, i) => [s.id, i]));
    for (const [i, spec] of table.entries()) {
      for (const before of spec.after ?? []) {
        expect(index.has(before), `${spec.id} after unknown ${before}`).toBe(true);
        expect(index.get(before)!, `${spec.id} after ${before}`).toBeLessThan(i);
      }
    }
    const after = (id: string) => table.find((s) => s.id === id)?.after;
    expect(after('runtime.sandbox-ready')).toEqual(['kubelet.acknowledged', 'kubelet.sandbox-requested']);
    expect(after('container.migrate.pulling')).toEqual(['runtime.sandbox-ready']);
    expect(after('container.log.pulling')).toEqual(['container.migrate.completed']);
    expect(after('container.app.pulling')).toEqual(['pod.initialized']);
    expect(after('pod.initialized')).toEqual(['container.migrate.completed', 'container.log.started']);
    expect(after('pod.containers-ready')).toEqual(['container.log.ready', 'container.app.ready', 'container.metrics.ready']);
  });

  it('matches kubelet events by the fieldPath of each container kind', () => {
    expect(containerRefs(ctx).map((r) => [r.name, r.kind, r.fieldPath])).toEqual([
      ['migrate', 'init', 'spec.initContainers{migrate}'],
      ['log', 'sidecar', 'spec.initContainers{log}'],
      ['app', 'app', 'spec.containers{app}'],
      ['metrics', 'app', 'spec.containers{metrics}'],
    ]);
  });

  it('has no pod.initialized row without init containers (Initialized carries no timing then)', () => {
    const plain = { ...pod, spec: { containers: pod.spec.containers } };
    const c = buildContext(header, [{ seq: 0, source: 'client', type: 'post-response', observedAt: header.startedAt, data: { pod: plain } }]);
    expect(milestoneTable(c).map((s) => s.id)).not.toContain('pod.initialized');
  });
});
