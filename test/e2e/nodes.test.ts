/**
 * Per node (issue: the local cluster as complete as kind's): `--node` pins a run to a node with
 * the scheduler still in the path, `--per-node` compares every node that can take the pod, and a
 * node that does not exist is its own exit code, before anything is created.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSet } from '../../src/analysis/runset.js';
import { EXIT } from '../../src/exit-codes.js';
import { runSetSchemaErrors } from '../unit/compare/schema.js';
import { clients, kubeconfigPath, NAMESPACE, runPodtrace, schedulableNodes } from './harness.js';

let cwd: string;
let nodes: string[];
beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-nodes-'));
  nodes = await schedulableNodes();
});

async function podtracePods(): Promise<string[]> {
  const list = await clients().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=podtrace' });
  return list.items.map((p) => String(p.metadata?.name));
}

describe('podtrace create on a chosen node, and on every node', () => {
  it('the cluster has two nodes that take pods to compare', () => {
    expect(nodes.length).toBeGreaterThanOrEqual(2);
  });

  it('--node of a node that does not exist: exit 41, one line, nothing created', async () => {
    const result = await runPodtrace(['create', 'nginx', '--node', 'podtrace-no-such-node', '--kubeconfig', kubeconfigPath()], cwd);
    expect(result.code).toBe(EXIT.nodeNotFound);
    expect(result.stderr).toMatch(/^podtrace: node "podtrace-no-such-node" does not exist on https:\/\/\S+: pick one of kubectl get nodes, or drop --node\n$/);
    expect(await podtracePods()).toEqual([]);
  });

  it('--node NAME: the scheduler places the pod there, and its step is in the trace', async () => {
    const node = nodes.at(-1)!;
    const result = await runPodtrace(['create', 'nginx', '--node', node, '--kubeconfig', kubeconfigPath(), '-o', 'json', '--out', 'pinned.json'], cwd);
    expect(result.code).toBe(EXIT.ok);
    const trace = JSON.parse(result.stdout);
    expect(trace.node.name).toBe(node);
    expect(trace.run.options.node).toBe(node);
    expect(trace.milestones.find((m: { id: string }) => m.id === 'scheduler.scheduled')?.detail).toBe(`node ${node}`);
    expect(await podtracePods()).toEqual([]);
  });

  it('--runs 3 --per-node: three runs on each node, one run set, compared node by node in the table, markdown and html', async () => {
    const result = await runPodtrace(['create', 'nginx', '--runs', '3', '--per-node', '--kubeconfig', kubeconfigPath(), '--out', 'per-node.json'], cwd);
    expect(result.code).toBe(EXIT.ok);
    const set = JSON.parse(readFileSync(path.join(cwd, 'per-node.json'), 'utf8')) as RunSet;
    expect(runSetSchemaErrors(set)).toEqual([]);
    expect(set.groupBy).toBe('node');
    expect(set.runs).toHaveLength(3 * nodes.length);
    // the nodes take turns
    expect(set.runs.map((r) => r.node?.name)).toEqual([...nodes, ...nodes, ...nodes]);
    for (const run of set.runs) expect(run.outcome.class).toBe('ready');
    // the summary: one table per node, then each node against the first
    for (const node of nodes) expect(result.stdout).toContain(`node ${node}`);
    expect(result.stdout).toMatch(/verdict/);
    for (const format of ['markdown', 'html']) {
      const report = await runPodtrace(['report', 'per-node.json', '-o', format], cwd);
      expect(report.code).toBe(EXIT.ok);
      for (const node of nodes) expect(report.stdout).toContain(`· node ${node}`);
    }
    const markdown = await runPodtrace(['report', 'per-node.json', '-o', 'markdown'], cwd);
    expect(markdown.stdout).toContain('### podtrace diff');
    expect(markdown.stdout).toContain(`- **node**: A \`${nodes[0]}\` · B \`${nodes[1]}\``);
    expect(await podtracePods()).toEqual([]);
  });
});
