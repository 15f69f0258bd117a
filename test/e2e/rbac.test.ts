/**
 * deploy/rbac.yaml is all podtrace needs: a ServiceAccount bound to exactly
 * those rules traces a pod end to end; without `delete` podtrace warns before
 * it creates anything; without `create` it stops at the authorization step
 * with the reviewer's answer and creates nothing.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RbacAuthorizationV1Api, type V1ClusterRole, type V1Role } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { REPO_DIR } from './cluster-provider.js';
import { clients, NAMESPACE, runPodtrace, serviceAccountKubeconfig } from './harness.js';

type Manifest = { kind: string; metadata: { name: string; namespace?: string }; rules?: { verbs: string[] }[]; subjects?: { name: string }[]; roleRef?: { name: string } };

const read = (file: string) => parseAllDocuments(readFileSync(path.join(REPO_DIR, 'deploy', file), 'utf8')).map((d) => d.toJS() as Manifest);
const manifests = read('rbac.yaml');

/** Applies deploy/rbac.yaml under another name, with `drop` removed from the pod verbs (`extra`: more manifests, under that name too). */
async function applyAs(name: string, drop?: string, extra: Manifest[] = []): Promise<void> {
  const rbac = clients().kc.makeApiClient(RbacAuthorizationV1Api);
  const ignore409 = (e: unknown) => {
    if ((e as { code?: number }).code !== 409) throw e;
  };
  for (const m of [...manifests, ...extra.map((e) => ({ ...e, extra: true }))]) {
    const body = structuredClone(m) as Manifest & { extra?: boolean };
    const own = body.extra ? `${name}-extra` : name;
    delete body.extra;
    body.metadata.name = own;
    if (body.roleRef) body.roleRef.name = own;
    if (body.subjects) for (const s of body.subjects) s.name = name;
    if (body.kind === 'Role' && drop) body.rules![0]!.verbs = body.rules![0]!.verbs.filter((v) => v !== drop);
    if (body.kind === 'ServiceAccount') continue; // serviceAccountKubeconfig makes it
    if (body.kind === 'Role') await rbac.createNamespacedRole({ namespace: NAMESPACE, body: body as V1Role }).catch(ignore409);
    if (body.kind === 'RoleBinding') await rbac.createNamespacedRoleBinding({ namespace: NAMESPACE, body: body as never }).catch(ignore409);
    if (body.kind === 'ClusterRole') await rbac.createClusterRole({ body: body as V1ClusterRole }).catch(ignore409);
    if (body.kind === 'ClusterRoleBinding') await rbac.createClusterRoleBinding({ body: body as never }).catch(ignore409);
  }
}

async function removeAs(name: string): Promise<void> {
  const rbac = clients().kc.makeApiClient(RbacAuthorizationV1Api);
  const quiet = () => undefined;
  await rbac.deleteNamespacedRole({ name, namespace: NAMESPACE }).catch(quiet);
  await rbac.deleteNamespacedRole({ name: `${name}-extra`, namespace: NAMESPACE }).catch(quiet);
  await rbac.deleteNamespacedRoleBinding({ name: `${name}-extra`, namespace: NAMESPACE }).catch(quiet);
  await rbac.deleteNamespacedRoleBinding({ name, namespace: NAMESPACE }).catch(quiet);
  await rbac.deleteClusterRole({ name }).catch(quiet);
  await rbac.deleteClusterRoleBinding({ name }).catch(quiet);
  await clients().core.deleteNamespacedServiceAccount({ name, namespace: NAMESPACE }).catch(quiet);
}

const podtrace = runPodtrace;

let cwd: string;
const names = ['podtrace-e2e-rbac', 'podtrace-e2e-rbac-nodelete', 'podtrace-e2e-rbac-nocreate', 'podtrace-e2e-rbac-expose'];
beforeAll(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-rbac-'));
});
afterAll(async () => {
  for (const name of names) await removeAs(name);
});

describe('least privilege (deploy/rbac.yaml)', () => {
  it('is enough to trace a pod from POST to Ready and delete it', async () => {
    await applyAs(names[0]!);
    const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'rbac.kubeconfig'), names[0]!);
    const result = await podtrace(['create', 'nginx', '--kubeconfig', kubeconfig, '-o', 'json', '--out', 'rbac.json'], cwd);
    expect(result.stderr).not.toMatch(/warning/);
    expect(result.code).toBe(EXIT.ok);
    const trace = JSON.parse(result.stdout) as Trace;
    expect(trace.identity?.username).toBe(`system:serviceaccount:${NAMESPACE}:${names[0]}`);
    expect(trace.node?.kubeletVersion).toBeTruthy(); // the ClusterRole's node read
    expect(trace.milestones.map((m) => m.id)).toContain('teardown.pod-gone');
    expect(trace.gaps).toEqual([]); // no watch was refused
  });

  it('with deploy/rbac-expose.yaml, --expose is traced from both vantage points (the probe pod and its log too)', async () => {
    await applyAs(names[3]!, undefined, read('rbac-expose.yaml'));
    const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'expose.kubeconfig'), names[3]!);
    const result = await podtrace(['create', 'nginx', '--expose', '80', '--kubeconfig', kubeconfig, '-o', 'json', '--out', 'expose.json'], cwd);
    expect(result.stderr).not.toMatch(/warning/);
    expect(result.code).toBe(EXIT.ok);
    const trace = JSON.parse(result.stdout) as Trace;
    expect(trace.service!.probe).toBeUndefined();
    expect(trace.service!.reach!.filter((r) => r.vantage === 'pod' && r.ok).map((r) => r.what).sort()).toEqual(['dns', 'route']);
    expect(trace.milestones.map((m) => m.id)).toEqual(expect.arrayContaining(['service.endpoint-ready', 'service.pod-routed', 'service.pod-dns']));
    const left = await clients().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'podtrace.dev/role=reach' });
    expect(left.items.map((p) => p.metadata!.name)).toEqual([]);
  });

  it('warns before creating anything when it may not delete', async () => {
    await applyAs(names[1]!, 'delete');
    const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'nodelete.kubeconfig'), names[1]!);
    const result = await podtrace(['create', 'nginx', '--kubeconfig', kubeconfig, '-o', 'json', '--out', 'nodelete.json'], cwd);
    const trace = JSON.parse(result.stdout) as Trace;
    const warning = result.stderr.split('\n').findIndex((l) => /not allowed to delete pods/.test(l));
    expect(warning).toBeGreaterThanOrEqual(0);
    // the warning comes from the access review, before the POST
    const review = trace.milestones.find((m) => m.id === 'client.may-delete')!;
    expect(review.at).toBeLessThan(trace.milestones.find((m) => m.id === 'api.post-sent')!.at);
    expect(result.stderr).toMatch(/kubectl delete pod -n default podtrace-nginx-/);
    await clients().core.deleteNamespacedPod({ name: trace.pod.name, namespace: NAMESPACE, gracePeriodSeconds: 0 });
  });

  it('stops at the authorization step when it may not create, and creates nothing', async () => {
    await applyAs(names[2]!, 'create');
    const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'nocreate.kubeconfig'), names[2]!);
    const result = await podtrace(['create', 'nginx', '--kubeconfig', kubeconfig, '-o', 'json', '--out', 'nocreate.json'], cwd);
    expect(result.code).toBe(EXIT.forbidden);
    const trace = JSON.parse(result.stdout) as Trace;
    expect(trace.outcome.class).toBe('forbidden');
    expect(trace.outcome.message).toMatch(new RegExp(`${names[2]} is not allowed to create pods`));
    expect(trace.milestones.some((m) => m.id === 'api.post-sent')).toBe(false);
    const pod = await clients()
      .core.readNamespacedPod({ name: trace.pod.name, namespace: NAMESPACE })
      .catch((e: { code?: number }) => e.code);
    expect(pod).toBe(404);
  });
});
