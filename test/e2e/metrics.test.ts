/**
 * Without tracing: the components' own figures from their /metrics. On a
 * quiet cluster the histograms move by this pod's operations alone (its etcd
 * write, its RunPodSandbox, CreateContainer, StartContainer, its cgroup);
 * with another pod starting beside it they are shared, and the trace says
 * with how many others instead of passing them off as this pod's.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { createPod, deletePod, keepRecording, kubeconfigPath, readPod, runPodtrace, schedulableNode, simplePod, startPodtrace, uniqueName, waitFor } from './harness.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-metrics-'));
const others: string[] = [];

afterAll(async () => {
  for (const name of others) await deletePod(name);
});

function load(name: string): Trace {
  return JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
}

describe("the components' metrics", () => {
  it('on a quiet cluster: the etcd write, the POST and the CRI operations are this pod’s own, exactly', async () => {
    const name = uniqueName('metrics-quiet');
    const recording = path.join(cwd, `${name}.ndjson`);
    const result = await runPodtrace(['create', 'nginx', '--name', name, '--kubeconfig', kubeconfigPath(), '-q', '--out', `${name}.json`, '--record', recording], cwd);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const trace = load(name);
    keepRecording(recording, trace, 'metrics-quiet');
    const step = (id: string) => trace.metrics!.steps.find((s) => s.id === id);
    for (const id of ['apiserver.etcd-write', 'apiserver.post', 'kubelet.run-pod-sandbox', 'kubelet.create-container', 'kubelet.start-container', 'kubelet.pod-cgroup']) {
      expect(step(id), id).toMatchObject({ exact: true, count: 1, expected: 1 });
      expect(step(id)!.durationMs!).toBeGreaterThan(0);
    }
    // the etcd write is inside the POST's handling: its share of the request's time
    expect(step('apiserver.etcd-write')!.durationMs!).toBeLessThan(step('apiserver.post')!.durationMs!);
    // the table says it too
    expect(result.stdout).toMatch(/components' metrics/);
    expect(result.stdout).toMatch(/RunPodSandbox \(sandbox and network\): [\d.]+m?s/);
  });

  it('with another pod starting beside it: shared, with how many others, and left out of the steps', async () => {
    const name = uniqueName('metrics-shared');
    const other = uniqueName('metrics-other');
    others.push(other);
    const recording = path.join(cwd, `${name}.ndjson`);
    // both on one node: the kubelet's counts are per node
    const node = await schedulableNode();
    // podtrace's pod is Ready 5 s after its container starts, so the other pod, created as soon as
    // podtrace's POST is seen, has its sandbox made before podtrace's second reading at Ready (with
    // nginx, Ready came first once in CI)
    const running = startPodtrace(
      ['create', 'podtrace/slow-ready', '--env', 'READY_AFTER=5', '--readiness', 'http:8080/ready', '--name', name, '--node', node, '--kubeconfig', kubeconfigPath(), '-q', '--out', `${name}.json`, '--record', recording],
      cwd,
    );
    // the other pod starts while podtrace's does: between its readings
    await waitFor('podtrace to send its POST', 20_000, async () => readPod(name).then(() => true, () => undefined));
    await createPod(simplePod(other, 'nginx', { nodeName: node }));
    const result = await running.done;
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const trace = load(name);
    keepRecording(recording, trace, 'metrics-shared');
    const sandbox = trace.metrics!.steps.find((s) => s.id === 'kubelet.run-pod-sandbox')!;
    expect(sandbox).toMatchObject({ exact: false, expected: 1 });
    expect(sandbox.sharedWith).toBeGreaterThanOrEqual(1);
    expect(sandbox.durationMs).toBeUndefined();
    expect(trace.metrics!.notes.join('\n')).toMatch(/shared with other operations/);
  });
});
