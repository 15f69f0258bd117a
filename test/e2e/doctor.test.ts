/**
 * `podtrace doctor` on the real cluster: with its Jaeger every source is
 * there (exit 0); without a backend the spans cannot be checked (exit 40);
 * a ServiceAccount bound to deploy/rbac.yaml only cannot read the metrics or
 * the kubelet's configuration and is told deploy/rbac-metrics.yaml grants
 * them; a server that does not answer is one line, exit 4. Nothing is created.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/analysis/doctor-types.js';
import { EXIT } from '../../src/exit-codes.js';
import { applyRbacAs, clients, deleteRbacAs, kubeconfigPath, NAMESPACE, runPodtrace, serviceAccountKubeconfig, spansUrl } from './harness.js';

const SA = 'podtrace-e2e-doctor';
let cwd: string;


async function podCount(): Promise<number> {
  return (await clients().core.listNamespacedPod({ namespace: NAMESPACE })).items.length;
}

function report(stdout: string): DoctorReport {
  return JSON.parse(stdout) as DoctorReport;
}

const check = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id)!;

beforeAll(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-doctor-'));
});

afterAll(async () => {
  await deleteRbacAs(SA);
});

describe('podtrace doctor on the real cluster', () => {
  it("with the cluster's Jaeger: every source is there, exit 0, and the spans time the steps to the ns", async () => {
    const pods = await podCount();
    const result = await runPodtrace(['doctor', '--kubeconfig', kubeconfigPath(), '--spans', spansUrl(), '-o', 'json'], cwd);
    expect(result.code, result.stdout).toBe(EXIT.ok);
    const r = report(result.stdout);
    expect(r.checks.filter((c) => c.status === 'improve' || c.status === 'unknown')).toEqual([]);
    expect(check(r, 'apiserver-spans').found).toMatch(/^a traced GET \/version reached .* in podtrace's own trace$/); // admin: system:masters
    expect(check(r, 'kubelet-spans').found).toMatch(/the kubelet traces on \S+(, \S+)*( and \S+)? \(endpoint .*, every span sampled\); .* has their spans/);
    expect(check(r, 'kubelet-events').found).toMatch(/eventRecordQPS 1000, eventBurst 1000/);
    expect(check(r, 'audit').status).toBe('info');
    const step = (id: string) => r.steps.find((s) => s.id === id)!;
    expect(step('api.accepted')).toMatchObject({ source: 'span:apiserver', precisionMs: 0.000001 });
    expect(step('kubelet.sandbox-requested')).toMatchObject({ source: 'span:kubelet', precisionMs: 0.000001 });
    expect(step('pod.ready')).toMatchObject({ source: 'watch-observed', measuredPerRun: true });
    expect(r.figures.find((f) => f.id === 'kubelet.run-pod-sandbox')!.status).toBe('exact-when-quiet');
    expect(await podCount()).toBe(pods); // nothing created
  });

  it('without a trace backend: the spans are not checked, exit 40, and the table says how to check them', async () => {
    const result = await runPodtrace(['doctor', '--kubeconfig', kubeconfigPath()], cwd, { PODTRACE_SPANS: '' });
    expect(result.code).toBe(EXIT.doctorImprove);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/unknown API server spans {4}not checked: no trace backend given/);
    expect(result.stdout).toMatch(/→ give --spans URL/);
    expect(result.stdout).toMatch(/│ API server stored the pod +│ client +│ ±1µs +│ API server span +│/);
    expect(result.stdout).toMatch(/\(exit 40\)\n$/);
  });

  it('a ServiceAccount bound to deploy/rbac.yaml only: metrics and kubelet configuration not readable, deploy/rbac-metrics.yaml named', async () => {
    await applyRbacAs(SA);
    const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'sa.kubeconfig'), SA);
    const result = await runPodtrace(['doctor', '--kubeconfig', kubeconfig, '--spans', spansUrl(), '-o', 'json'], cwd);
    expect(result.code).toBe(EXIT.doctorImprove);
    const r = report(result.stdout);
    expect(r.cluster.username).toBe(`system:serviceaccount:${NAMESPACE}:${SA}`);
    expect(check(r, 'access')).toMatchObject({ status: 'improve', found: `system:serviceaccount:${NAMESPACE}:${SA} may not get /metrics, get nodes/proxy (namespace ${NAMESPACE})` });
    expect(check(r, 'apiserver-metrics')).toMatchObject({ status: 'improve', found: 'not allowed to read /metrics (get /metrics)' });
    expect(check(r, 'kubelet-metrics').status).toBe('improve');
    for (const id of ['access', 'apiserver-metrics', 'kubelet-metrics', 'kubelet-events']) expect(check(r, id).change, id).toMatch(/^kubectl apply -f deploy\/rbac-metrics\.yaml/);
    // not in system:masters: the API server's span is in a trace of its own, found by the Audit-ID
    expect(check(r, 'apiserver-spans').found).toMatch(/in a trace of the API server's own, found by its Audit-ID/);
    expect(r.figures.every((f) => f.status === 'not-readable')).toBe(true);
    // the token is never printed
    const token = readFileSync(kubeconfig, 'utf8').match(/token: "([^"]+)"/)![1]!;
    expect(result.stdout + result.stderr).not.toContain(token.slice(0, 40));
  });

  it('an API server that does not answer: one line, exit 4', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const file = path.join(cwd, 'refused.kubeconfig');
    writeFileSync(file, readFileSync(kubeconfigPath(), 'utf8').replace(/server: https:\/\/\S+/, `server: https://127.0.0.1:${port}`));
    const result = await runPodtrace(['doctor', '--kubeconfig', file], cwd);
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^podtrace: cannot reach the API server at https://127\\.0\\.0\\.1:${port}`));
  });
});
