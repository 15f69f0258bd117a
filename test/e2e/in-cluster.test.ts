/**
 * podtrace inside the cluster (issue: distribution and probe): its own image (Node 24 runtime and
 * the bundle, no shell, non-root), run as a pod with a ServiceAccount bound to deploy/rbac.yaml and
 * no kubeconfig, traces a pod as kubectl would from there: the API server from
 * KUBERNETES_SERVICE_HOST/PORT, the mounted token and CA. Without the token it is the usual
 * one-line exit 3, never localhost:8080.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { applyRbacAs, clients, deleteRbacAs, NAMESPACE, pushPodtraceImage, uniqueName, waitFor, waitForPodGone } from './harness.js';

const SA = uniqueName('podtrace-e2e-incluster');
const made: string[] = [];
let image: string;

beforeAll(async () => {
  image = await pushPodtraceImage();
  await clients().core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: SA } } });
  await applyRbacAs(SA);
}, 300_000);

afterAll(async () => {
  for (const name of made) await clients().core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 }).catch(() => undefined);
  await deleteRbacAs(SA);
});

function podtracePod(name: string, args: string[], token: boolean): V1Pod {
  return {
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'podtrace-e2e' } },
    spec: {
      restartPolicy: 'Never',
      serviceAccountName: SA,
      automountServiceAccountToken: token,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'podtrace',
          image,
          imagePullPolicy: 'Always',
          args,
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
}

async function runToEnd(pod: V1Pod): Promise<{ exitCode: number; log: string }> {
  const name = pod.metadata!.name!;
  made.push(name);
  await clients().core.createNamespacedPod({ namespace: NAMESPACE, body: pod });
  const done = await waitFor(`pod ${name} to finish`, 180_000, async () => {
    const p = await clients().core.readNamespacedPod({ name, namespace: NAMESPACE });
    const terminated = p.status?.containerStatuses?.[0]?.state?.terminated;
    return terminated ? terminated : undefined;
  });
  const log = (await clients().core.readNamespacedPodLog({ name, namespace: NAMESPACE, container: 'podtrace' })) as unknown as string;
  return { exitCode: done.exitCode, log };
}

describe('podtrace in a pod', () => {
  it('with the ServiceAccount and no kubeconfig: traces nginx to Ready through the in-cluster config, and deletes it', async () => {
    const { exitCode, log } = await runToEnd(podtracePod(uniqueName('podtrace-in'), ['create', 'nginx', '-q', '-o', 'json'], true));
    expect(exitCode, log).toBe(EXIT.ok);
    // The pod's log merges stdout and stderr, and the runtime reads the two pipes apart, so
    // stderr's one line ("trace saved to ...") may land anywhere inside the JSON: take it out.
    const stdout = log.split('\n').filter((line) => !/^trace saved to /.test(line)).join('\n');
    expect(log).toMatch(/^trace saved to \S+$/m);
    const json = stdout.slice(stdout.indexOf('{'), stdout.lastIndexOf('}') + 1);
    const trace = JSON.parse(json) as Trace;
    expect(trace.outcome.class).toBe('ready');
    expect(trace.cluster).toMatchObject({ context: 'in-cluster', authMethod: 'token', namespace: NAMESPACE });
    expect(trace.cluster!.server).toMatch(/^https:\/\/\S+:\d+$/);
    expect(trace.identity?.username).toBe(`system:serviceaccount:${NAMESPACE}:${SA}`);
    // nothing of the token in what it printed
    expect(log).not.toMatch(/eyJhbGci/);
    await waitForPodGone(trace.pod.name, 60_000);
  });

  it('without the token mounted: one line, exit 3, nothing created', async () => {
    const { exitCode, log } = await runToEnd(podtracePod(uniqueName('podtrace-notoken'), ['create', 'nginx', '-q'], false));
    expect(exitCode).toBe(EXIT.kubeconfig);
    expect(log.trim().split('\n')).toEqual([expect.stringMatching(/^podtrace: no kubeconfig: \/tmp\/\.kube\/config does not exist and KUBECONFIG is not set; pass --kubeconfig FILE \(podtrace never falls back to http:\/\/localhost:8080\)$/)]);
  });
});
