/**
 * `podtrace watch -l SELECTOR` (issue: beyond startup): every pod of a
 * Deployment that appears while it watches gets its own trace, in one run set
 * that report and diff accept; a pod that existed before is not traced.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { RunSet } from '../../src/analysis/runset.js';
import type { Trace } from '../../src/trace/types.js';
import { schemaErrors } from '../unit/trace/schema-validator.js';
import { serverOf } from './tcp-proxy.js';
import { clients, createPod, deletePod, kubeconfigPath, NAMESPACE, runPodtrace, simplePod, startPodtrace, uniqueName, waitFor, waitForPodGone } from './harness.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-watch-'));
const app = uniqueName('wapp');
const before = uniqueName('wbefore');

function apps(): AppsV1Api {
  return clients().kc.makeApiClient(AppsV1Api);
}

afterAll(async () => {
  await apps().deleteNamespacedDeployment({ name: app, namespace: NAMESPACE }).catch(() => undefined);
  await deletePod(before);
  const left = await clients().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${app}` });
  for (const p of left.items) await waitForPodGone(p.metadata!.name!, 60_000);
});

describe('podtrace watch', () => {
  it('traces each pod of a new Deployment, one trace each in a run set; a pod that was there before is left out', async () => {
    const existing = simplePod(before, 'nginx');
    existing.metadata!.labels = { ...existing.metadata!.labels, app };
    await createPod(existing);

    const run = startPodtrace(['watch', '-l', `app=${app}`, '--count', '3', '--for', '2m', '--kubeconfig', kubeconfigPath(), '-o', 'json', '--out', 'set.json'], cwd);
    await waitFor('the watch to start', 30_000, async () => (run.stderr().includes('watching pods') ? true : undefined));
    await apps().createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name: app },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app, role: 'web' } },
          template: {
            metadata: { labels: { app, role: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx' }], terminationGracePeriodSeconds: 1 },
          },
        },
      },
    });
    const result = await run.done;
    expect(result.code, result.stderr).toBe(EXIT.ok);

    const text = readFileSync(path.join(cwd, 'set.json'), 'utf8');
    const set = JSON.parse(text) as RunSet;
    // the file, written trace by trace as the pods finished, is exactly what -o json printed
    expect(result.stdout).toBe(text);
    expect(readdirSync(cwd).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(set.label).toBe(`app=${app} in ${NAMESPACE}`);
    expect(set.runs).toHaveLength(3);
    const live = await clients().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${app},role=web` });
    const uids = new Map(live.items.map((p) => [p.metadata!.name!, p.metadata!.uid]));
    const names = set.runs.map((t) => t.pod.name);
    expect(names).not.toContain(before);
    expect(new Set(names).size).toBe(3);
    for (const trace of set.runs) {
      expect(schemaErrors(trace)).toEqual([]);
      expect(trace.run.mode).toBe('watch');
      expect(trace.run.t0Source).toBe('first-seen');
      expect(trace.cluster?.server).toBe(serverOf(kubeconfigPath()));
      expect(trace.pod.uid).toBe(uids.get(trace.pod.name));
      expect(trace.outcome.class).toBe('ready');
      const ids = trace.milestones.map((m) => m.id);
      for (const id of ['api.accepted', 'scheduler.scheduled', 'container.web.started', 'pod.ready']) expect(ids, `${trace.pod.name} ${id}`).toContain(id);
      // the scheduler's event about this pod names this pod's node binding, not another's
      expect(trace.milestones.find((m) => m.id === 'scheduler.scheduled')!.source).toBe('event-name-ns');
      expect(trace.milestones.some((m) => m.component === 'client')).toBe(false);
    }

    // the run set is what report and diff read
    const report = await runPodtrace(['report', 'set.json', '-o', 'json'], cwd);
    expect(report.code, report.stderr).toBe(EXIT.ok);
    expect(JSON.parse(report.stdout).sets[0]).toMatchObject({ runs: 3, outcomes: { ready: 3 } });
    expect(JSON.parse(report.stdout).sets[0].metrics.ready.n).toBe(3);
    const diff = await runPodtrace(['diff', 'set.json', 'set.json'], cwd);
    expect(diff.code, diff.stderr).toBe(EXIT.ok);

    // the cluster's garbage collector removes what the Deployment owned
    const owned = await apps().listNamespacedReplicaSet({ namespace: NAMESPACE, labelSelector: `app=${app}` });
    expect(owned.items).toHaveLength(1);
    await apps().deleteNamespacedDeployment({ name: app, namespace: NAMESPACE, propagationPolicy: 'Background' });
    await waitFor('the garbage collector to delete the ReplicaSet and its pods', 90_000, async () => {
      const sets = await apps().listNamespacedReplicaSet({ namespace: NAMESPACE, labelSelector: `app=${app}` });
      const pods = await clients().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${app},role=web` });
      return sets.items.length === 0 && pods.items.length === 0 ? true : undefined;
    });
  });

  it("a Job's pod that runs to completion is a success: class succeeded, exit 0", async () => {
    const job = uniqueName('wjob');
    const run = startPodtrace(['watch', '-l', `app=${job}`, '--count', '1', '--for', '2m', '--kubeconfig', kubeconfigPath(), '-o', 'json', '--out', 'job.json'], cwd);
    await waitFor('the watch to start', 30_000, async () => (run.stderr().includes('watching pods') ? true : undefined));
    const pod = simplePod(job, 'nginx', { restartPolicy: 'Never' });
    pod.metadata!.labels = { ...pod.metadata!.labels, app: job };
    // running long enough for the kubelet to report it Ready first: Ready on the way is not its end
    pod.spec!.containers[0]!.command = ['sh', '-c', 'sleep 3; exit 0'];
    await createPod(pod);
    try {
      const result = await run.done;
      expect(result.code).toBe(EXIT.ok);
      const set = JSON.parse(result.stdout) as { runs: Trace[] };
      expect(set.runs.map((t) => [t.outcome.class, t.outcome.exitCode, t.outcome.cause?.code])).toEqual([['succeeded', EXIT.ok, 'completed']]);
      expect(set.runs[0]!.milestones.map((m) => m.id)).toContain('pod.ready');
      expect(result.stderr).toMatch(new RegExp(`^${job}: Succeeded$`, 'm'));
    } finally {
      await deletePod(job);
    }
  });

  it('nothing appears within --for: one line, exit 21, nothing saved', async () => {
    const result = await runPodtrace(['watch', '-l', 'app=podtrace-nothing-here', '--for', '2s', '--kubeconfig', kubeconfigPath(), '--out', 'none.json'], cwd);
    expect(result.code).toBe(EXIT.timeout);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(`podtrace: no pod matching app=podtrace-nothing-here appeared in ${NAMESPACE} within --for 2s: nothing saved`);
    expect(() => readFileSync(path.join(cwd, 'none.json'))).toThrow();
    expect(readdirSync(cwd).filter((f) => f.includes('none.json'))).toEqual([]); // no temp file either
  });
});
