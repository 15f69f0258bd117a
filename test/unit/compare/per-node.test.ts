/**
 * `create --node` and `--per-node` against the in-memory cluster, and the run set grouped by node
 * that report and the summary compare node by node.
 */
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/exit-codes.js';
import { makeRunSet, parseRunSetOrTrace, splitByNode, type RunSet } from '../../../src/analysis/runset.js';
import { unschedulableBecause } from '../../../src/collect/schedulable-nodes.js';
import { planCreate } from '../../../src/commands/create-plan.js';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createCLI, main } from '../../../src/cli.js';
import { pinToNode, type PodManifest } from '../../../src/commands/pod-manifest.js';
import { createInMemory, FakeCluster, memoryStream } from '../cli/fake-kube.js';
import { runSetSchemaErrors } from './schema.js';
import { UsageError } from '../../../src/errors.js';

const TWO_NODES = [{ name: 'podtrace-control-plane' }, { name: 'podtrace-worker' }];

function options(argv: string[]) {
  const parsed = createCLI({ stdout: memoryStream(), stderr: memoryStream(), env: {} }).parse(['create', ...argv]);
  if (parsed.command !== 'create') throw new Error('not create');
  return parsed.input;
}

describe('--node NAME', () => {
  it('pins the pod with a required affinity to the node name, the scheduler still in the path', () => {
    const plan = planCreate(options(['nginx', '--node', 'podtrace-worker']), { now: 0 });
    expect(plan.node).toBe('podtrace-worker');
    expect(plan.manifest.spec['nodeName']).toBeUndefined();
    expect(plan.manifest.spec['affinity']).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['podtrace-worker'] }] }],
        },
      },
    });
  });

  it("adds the node to every term a manifest already requires, and refuses a manifest's spec.nodeName", () => {
    const manifest: PodManifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {},
      spec: {
        containers: [{ name: 'a', image: 'nginx' }],
        affinity: {
          podAntiAffinity: { x: 1 },
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 }],
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] },
                { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['x'] }] },
              ],
            },
          },
        },
      },
    };
    const pinned = pinToNode(manifest, 'n1');
    const byName = { key: 'metadata.name', operator: 'In', values: ['n1'] };
    expect(pinned.spec['affinity']).toEqual({
      podAntiAffinity: { x: 1 },
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 }],
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }], matchFields: [byName] },
            { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['x'] }, byName] },
          ],
        },
      },
    });
    // the manifest itself is not changed
    expect((manifest.spec['affinity'] as any).nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields).toBeUndefined();
    expect(() => pinToNode({ ...manifest, spec: { ...manifest.spec, nodeName: 'n2' } }, 'n1', 'pod.yaml')).toThrow(
      '--node cannot be combined with spec.nodeName in pod.yaml: drop one of them',
    );
  });

  it('checks its flags: a node name, and not with --per-node; --per-node not with --keep', () => {
    expect(() => options(['nginx', '--node', 'Bad_Name'])).toThrow(/--node "Bad_Name": a node name is lowercase letters/);
    expect(() => planCreate(options(['nginx', '--node', 'a', '--per-node']), { now: 0 })).toThrow(new UsageError('--per-node runs on every node: drop --node a, or --per-node'));
    expect(() => planCreate(options(['nginx', '--per-node', '--keep']), { now: 0 })).toThrow(/--keep cannot be combined with --per-node/);
  });

  it('a node that does not exist is exit 41, before the POST, the watches opened beside the reviews closed', async () => {
    const { code, stderr, cluster } = await createInMemory(['nginx', '--node', 'no-such-node'], { cluster: new FakeCluster({ nodes: TWO_NODES }) });
    expect(code).toBe(EXIT.nodeNotFound);
    expect(stderr).toBe('podtrace: node "no-such-node" does not exist on https://127.0.0.1:6443: pick one of kubectl get nodes, or drop --node\n');
    expect(cluster.apiCalls.some((c) => c.startsWith('createPod'))).toBe(false);
    expect(cluster.streams.filter((s) => s.open)).toEqual([]);
  });

  it('an existing node: the trace says where the pod was pinned, and it ran there', async () => {
    const { code, stdout } = await createInMemory(['nginx', '--node', 'podtrace-worker', '-o', 'json'], { cluster: new FakeCluster({ nodes: TWO_NODES }) });
    expect(code).toBe(EXIT.ok);
    const trace = JSON.parse(stdout);
    expect(trace.run.options.node).toBe('podtrace-worker');
    expect(trace.node.name).toBe('podtrace-worker');
  });
});

describe('--runs N --per-node', () => {
  it('takes the schedulable nodes in turn and saves one run set grouped by node', async () => {
    const nodes = [
      ...TWO_NODES,
      { name: 'cordoned', unschedulable: true },
      { name: 'tainted', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
      { name: 'down', ready: false },
    ];
    const { code, stdout, stderr } = await createInMemory(['nginx', '--runs', '2', '--per-node', '--name', 'web', '-o', 'json'], { cluster: new FakeCluster({ nodes }) });
    expect(code).toBe(EXIT.ok);
    const set = JSON.parse(stdout) as RunSet;
    expect(set.groupBy).toBe('node');
    expect(runSetSchemaErrors(set)).toEqual([]);
    expect(set.runs.map((t) => [t.pod.name, t.node?.name])).toEqual([
      ['web-1', 'podtrace-control-plane'],
      ['web-2', 'podtrace-worker'],
      ['web-3', 'podtrace-control-plane'],
      ['web-4', 'podtrace-worker'],
    ]);
    expect(stderr).toMatch(/^run 4\/4: ready after /m);
    expect(splitByNode(set).map((s) => [s.label, s.runs.length])).toEqual([
      ['nginx on fake · node podtrace-control-plane', 2],
      ['nginx on fake · node podtrace-worker', 2],
    ]);
  });

  it('in a terminal: a summary per node, then the second node against the first', async () => {
    const { code, stdout } = await createInMemory(['nginx', '--runs', '2', '--per-node'], { cluster: new FakeCluster({ nodes: TWO_NODES }) });
    expect(code).toBe(EXIT.ok);
    const first = stdout.indexOf('node podtrace-control-plane');
    const second = stdout.indexOf('node podtrace-worker');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThan(first);
    // the diff's heading names both sets
    expect(stdout.slice(second)).toMatch(/node podtrace-control-plane[\s\S]*node podtrace-worker/);
  });

  it('report compares the nodes of the saved run set as two sets, in markdown and html', async () => {
    const { code, cwd } = await createInMemory(['nginx', '--runs', '2', '--per-node', '--name', 'web', '-q'], { cluster: new FakeCluster({ nodes: TWO_NODES }) });
    expect(code).toBe(EXIT.ok);
    const file = path.join('traces', readdirSync(path.join(cwd, 'traces'))[0]!);
    for (const format of ['markdown', 'html']) {
      const stdout = memoryStream();
      expect(await main(['report', file, '-o', format], { stdout, stderr: memoryStream(), env: {}, cwd })).toBe(EXIT.ok);
      const text = stdout.text();
      expect(text).toContain('nginx on fake · node podtrace-control-plane');
      expect(text).toContain('nginx on fake · node podtrace-worker');
      if (format === 'markdown') {
        expect(text).toMatch(/### podtrace diff\n+- \*\*A\*\* nginx on fake · node podtrace-control-plane \(2 runs\)\n- \*\*B\*\* nginx on fake · node podtrace-worker \(2 runs\)/);
        expect(text).toContain('- **node**: A `podtrace-control-plane` · B `podtrace-worker`');
      } else {
        expect(text).toContain('<title>podtrace report: nginx on fake · node podtrace-control-plane vs nginx on fake · node podtrace-worker</title>');
      }
    }
  });

  it('no node can take the pod: exit 41 with each node and why', async () => {
    const cluster = new FakeCluster({ nodes: [{ name: 'a', unschedulable: true }, { name: 'b', taints: [{ key: 'k', effect: 'NoExecute' }] }] });
    const { code, stderr } = await createInMemory(['nginx', '--per-node'], { cluster });
    expect(code).toBe(EXIT.nodeNotFound);
    expect(stderr).toBe('podtrace: --per-node: no node on https://127.0.0.1:6443 can take the pod: a (cordoned), b (taint k:NoExecute); check kubectl get nodes\n');
    expect(cluster.apiCalls.some((c) => c.startsWith('createPod'))).toBe(false);
  });
});

describe('schedulable nodes', () => {
  const node = (spec: Record<string, unknown>, ready = 'True') => ({ metadata: { name: 'n' }, spec, status: { conditions: [{ type: 'Ready', status: ready }] } });
  it('honours the tolerations the pod has', () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    expect(unschedulableBecause(node({ taints: [taint] }), [])).toBe('taint dedicated=gpu:NoSchedule');
    expect(unschedulableBecause(node({ taints: [taint] }), [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }])).toBeUndefined();
    expect(unschedulableBecause(node({ taints: [taint] }), [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }])).toBeUndefined();
    expect(unschedulableBecause(node({ taints: [taint] }), [{ operator: 'Exists' }])).toBeUndefined();
    expect(unschedulableBecause(node({ taints: [taint] }), [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }])).toBe('taint dedicated=gpu:NoSchedule');
    expect(unschedulableBecause(node({ taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }), [])).toBeUndefined();
    expect(unschedulableBecause(node({}, 'Unknown'), [])).toBe('not Ready');
  });
});

describe('a run set grouped by node', () => {
  it('survives a save and a read; an unknown grouping is refused', () => {
    const set = makeRunSet([], 'x', '1', 'node');
    expect(set.groupBy).toBe('node');
    expect(makeRunSet([], 'x', '1')).not.toHaveProperty('groupBy');
    const text = JSON.stringify({ ...set, runs: [{}] });
    expect(() => parseRunSetOrTrace(text.replace('"node"', '"zone"'), 'f')).toThrow('run set groupBy "zone" is not supported (only "node")');
  });
});
