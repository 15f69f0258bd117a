/**
 * `podtrace create --expose PORT` (issue: beyond startup): a Service for the
 * pod, then the pod's address in its EndpointSlice, then ready there, each
 * timed; the Service's DNS name and whether the cluster has DNS; the Service
 * deleted with the pod, and never one podtrace did not create.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { schemaErrors } from '../unit/trace/schema-validator.js';
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { clients, keepRecording, kubeconfigPath, NAMESPACE, runPodtrace, uniqueName, waitFor } from './harness.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-expose-'));
const services: string[] = [];

afterAll(async () => {
  for (const name of services) await clients().core.deleteNamespacedService({ name, namespace: NAMESPACE }).catch(() => undefined);
});

async function serviceExists(name: string): Promise<boolean> {
  return clients()
    .core.readNamespacedService({ name, namespace: NAMESPACE })
    .then(
      () => true,
      (e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)),
    );
}

async function clusterHasDns(): Promise<boolean> {
  return clients()
    .core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' })
    .then(
      () => true,
      () => false,
    );
}

async function podExists(name: string): Promise<boolean> {
  return clients()
    .core.readNamespacedPod({ name, namespace: NAMESPACE })
    .then(
      () => true,
      (e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)),
    );
}

async function create(name: string, label: string, extra: string[] = []): Promise<{ code: number; stdout: string; trace: Trace; observations: string }> {
  const recording = path.join(cwd, `${name}.ndjson`);
  const result = await runPodtrace(
    ['create', 'nginx', '--name', name, '--expose', '80', ...extra, '--kubeconfig', kubeconfigPath(), '--out', `${name}.json`, '--record', recording],
    cwd,
  );
  const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
  expect(schemaErrors(trace)).toEqual([]);
  keepRecording(recording, trace, label);
  return { code: result.code, stdout: result.stdout, trace, observations: readFileSync(recording, 'utf8') };
}

describe('create --expose', () => {
  it('times the Service, the endpoint and its readiness, reports the DNS name, and deletes the Service with the pod', async () => {
    const name = uniqueName('expose');
    services.push(name);
    const { code, stdout, trace, observations } = await create(name, 'expose');
    expect(code).toBe(EXIT.ok);
    const s = trace.service!;
    expect(s).toMatchObject({ name, namespace: NAMESPACE, port: 80, dnsName: `${name}.${NAMESPACE}.svc.cluster.local` });
    expect(s.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(s.clusterDns).toBe((await clusterHasDns()) ? 'found' : 'absent');
    expect(s.endpoint).toEqual({ address: trace.pod.podIP, ready: true });

    const at = (id: string) => trace.milestones.find((m) => m.id === id)!;
    for (const id of ['service.created', 'service.endpoint-added', 'service.endpoint-ready']) expect(trace.milestones.map((m) => m.id)).toContain(id);
    expect(at('service.created').detail).toBe(`cluster IP ${s.clusterIP}`);
    expect(at('service.endpoint-added').at).toBeLessThanOrEqual(at('service.endpoint-ready').at);
    // the endpoint is ready only once the pod is: the controller follows the Ready condition
    expect(at('service.endpoint-ready').at).toBeGreaterThanOrEqual(at('pod.ready').at);
    // and before podtrace tore it down
    expect(at('service.endpoint-ready').at).toBeLessThan(at('teardown.delete-sent').at);

    expect(stdout).toContain(`service ${name}.${NAMESPACE}.svc.cluster.local → ${s.clusterIP}:80, endpoint ${s.endpoint!.address} ready`);

    // from podtrace's machine (on the local cluster, a node): a connection through the cluster IP
    // reaches the pod once kube-proxy has programmed it, and the cluster DNS answers the name
    const dns = (await clients().core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' })).spec!.clusterIP;
    // (in the order they worked: the name often resolves before the pod is Ready)
    const fromClient = s.reach!.filter((r) => r.vantage === 'client');
    expect([...fromClient].sort((a, b) => a.what.localeCompare(b.what)).reverse()).toEqual([
      expect.objectContaining({ vantage: 'client', what: 'route', target: `${s.clusterIP}:80`, ok: true }),
      expect.objectContaining({ vantage: 'client', what: 'dns', target: `${s.dnsName} @ ${dns}`, ok: true }),
    ]);
    const routed = at('service.routed');
    const resolved = at('service.dns');
    expect(routed).toMatchObject({ component: 'kube-proxy', source: 'client-clock' });
    expect(resolved).toMatchObject({ component: 'dns', source: 'client-clock' });
    // the precision is half the interval between the try that failed and the one that worked:
    // tries start every 100 ms, so it is about 50 ms, never a constant
    expect(routed.precisionMs).toBeGreaterThan(0);
    expect(routed.precisionMs).toBeLessThan(2000);
    // neither can work before the Service exists, and both worked before the teardown
    for (const m of [routed, resolved]) {
      expect(m.at - m.precisionMs).toBeGreaterThanOrEqual(at('service.created').at - at('service.created').precisionMs);
      expect(m.at).toBeLessThan(at('teardown.delete-sent').at);
    }
    // (the notes wrap at the terminal's width)
    expect(stdout.replace(/\s+/g, ' ')).toMatch(new RegExp(`cluster IP ${s.clusterIP!.replaceAll('.', '\\.')}:80 reached from podtrace's machine \\(try \\d+\\)`));

    // from inside the cluster: the probe pod, through its own network namespace and resolver
    const nodes = new Set((await clients().core.listNode()).items.map((n) => n.metadata!.name!));
    const fromPod = s.reach!.filter((r) => r.vantage === 'pod');
    expect([...fromPod].sort((a, b) => a.what.localeCompare(b.what))).toEqual([
      expect.objectContaining({ what: 'dns', target: s.dnsName, ok: true }),
      expect.objectContaining({ what: 'route', target: `${s.clusterIP}:80`, ok: true }),
    ]);
    for (const r of fromPod) expect(nodes).toContain(r.node);
    const podRouted = at('service.pod-routed');
    const podResolved = at('service.pod-dns');
    expect(podRouted).toMatchObject({ component: 'kube-proxy', source: 'probe-clock' });
    expect(podResolved).toMatchObject({ component: 'dns', source: 'probe-clock' });
    expect(podRouted.detail).toBe(`from a pod on ${fromPod[0]!.node}: ${s.clusterIP}:80`);
    // the probe started before the endpoint was ready (it tried and failed first), so the route has
    // a time within half a try interval; on this one host the node's clock is the client's
    expect(fromPod.find((r) => r.what === 'route')!.firstTry).toBeUndefined();
    expect(podRouted.precisionMs).toBeGreaterThan(0);
    expect(podRouted.precisionMs).toBeLessThan(1000);
    expect(podRouted.at + podRouted.precisionMs).toBeGreaterThanOrEqual(at('service.endpoint-ready').at - at('service.endpoint-ready').precisionMs);
    expect(podResolved.at - podResolved.precisionMs).toBeGreaterThanOrEqual(at('service.created').at - 1);
    expect(stdout.replace(/\s+/g, ' ')).toMatch(new RegExp(`cluster IP ${s.clusterIP!.replaceAll('.', '\\.')}:80 reached from a pod on podtrace-(control-plane|worker) \\(try \\d+\\)`));
    // the probe's own requests are named apart from the traced pod's POST and DELETE
    expect(observations).toContain('"call":"createReachPod"');
    expect(await serviceExists(name)).toBe(false);
    expect(await podExists(`${name}-reach`)).toBe(false);
  });

  it('--reach-from client: no probe pod; a probe image the nodes cannot pull: said once, the trace goes on ready, nothing left', async () => {
    const clientOnly = uniqueName('expose-client');
    services.push(clientOnly);
    const a = await create(clientOnly, 'expose-client', ['--reach-from', 'client']);
    expect(a.code).toBe(EXIT.ok);
    expect(a.trace.service!.reach!.map((r) => r.vantage)).toEqual(['client', 'client']);
    expect(a.observations).not.toContain('"type":"reach-pod"');

    const broken = uniqueName('expose-noprobe');
    services.push(broken);
    const b = await create(broken, 'expose-noprobe', ['--reach-image', 'podtrace/no-such-reach:1']);
    expect(b.code).toBe(EXIT.ok);
    expect(b.trace.outcome.class).toBe('ready');
    expect(b.trace.service!.probe).toMatchObject({ pod: `${broken}-reach`, image: 'podtrace/no-such-reach:1' });
    expect(b.trace.service!.probe!.error).toMatch(/^(ErrImagePull|ImagePullBackOff)/);
    expect(b.trace.milestones.map((m) => m.id)).not.toContain('service.pod-routed');
    expect(b.stdout.replace(/\s+/g, ' ')).toContain(`no answer from inside the cluster (probe pod ${broken}-reach on `);
    expect(await podExists(`${broken}-reach`)).toBe(false);
    expect(await serviceExists(broken)).toBe(false);
  });

  it('the cluster DNS down while --expose waits for the name: the trace ends ready, the name unresolved, said once', async () => {
    const apps = clients().kc.makeApiClient(AppsV1Api);
    const scale = (replicas: number) =>
      apps.patchNamespacedDeploymentScale({ name: 'coredns', namespace: 'kube-system', body: { spec: { replicas } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const before = (await apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' })).spec!.replicas!;
    await scale(0);
    try {
      await waitFor('CoreDNS to be gone', 60_000, async () =>
        (await clients().core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items.length === 0 ? true : undefined,
      );
      const name = uniqueName('expose-nodns');
      services.push(name);
      const started = Date.now();
      const { code, stdout, trace } = await create(name, 'expose-nodns');
      expect(code).toBe(EXIT.ok);
      expect(trace.outcome.class).toBe('ready');
      const dns = trace.service!.reach!.find((r) => r.what === 'dns' && r.vantage === 'client')!;
      expect(dns).toMatchObject({ ok: false });
      expect(dns.attempts).toBeGreaterThan(1);
      expect(dns.error).toMatch(/\S/);
      // from the probe pod too: where it stood when podtrace stopped waiting, with its last error
      const podDns = trace.service!.reach!.find((r) => r.what === 'dns' && r.vantage === 'pod')!;
      expect(podDns).toMatchObject({ ok: false });
      expect(podDns.attempts).toBeGreaterThanOrEqual(10);
      expect(podDns.error).toMatch(/\S/);
      expect(trace.milestones.map((m) => m.id)).not.toContain('service.pod-dns');
      expect(trace.milestones.map((m) => m.id)).not.toContain('service.dns');
      // the route does not need the DNS
      expect(trace.service!.reach!.filter((r) => r.what === 'route')).toEqual([expect.objectContaining({ ok: true }), expect.objectContaining({ ok: true })]);
      expect(stdout.replace(/\s+/g, ' ')).toMatch(/name \S+ @ \S+ not resolved from podtrace's machine in \d+ tries: /);
      // the tries stop 15 s after Ready: no hang
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(await serviceExists(name)).toBe(false);
    } finally {
      await scale(before);
      await waitFor('CoreDNS to be back', 120_000, async () => {
        const d = await apps.readNamespacedDeployment({ name: 'coredns', namespace: 'kube-system' });
        return (d.status?.readyReplicas ?? 0) >= before ? true : undefined;
      });
    }
  }, 240_000);

  it("a Service of that name that is not podtrace's: the trace goes on, says why, and leaves that Service alone", async () => {
    const name = uniqueName('expose-taken');
    services.push(name);
    await clients().core.createNamespacedService({
      namespace: NAMESPACE,
      body: { metadata: { name }, spec: { selector: { app: 'someone-else' }, ports: [{ port: 80 }] } },
    });
    const { code, stdout, trace } = await create(name, 'expose-taken');
    expect(code).toBe(EXIT.ok);
    expect(trace.outcome.class).toBe('ready');
    expect(trace.service!.error).toMatch(/^409 AlreadyExists: /);
    expect(trace.milestones.map((m) => m.id)).not.toContain('service.created');
    expect(stdout).toContain(`service ${NAMESPACE}/${name} could not be created: 409 AlreadyExists`);
    expect(await serviceExists(name)).toBe(true);
  });
});
