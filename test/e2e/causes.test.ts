/**
 * The specific cause of each failure (issue: why was it slow, why did it fail), on the real
 * cluster: for each, podtrace's class, the cause's stable code, its chain and its hint. The
 * scenarios run side by side (describe.concurrent) so their back-off waits and timeouts overlap;
 * the one that taints a node runs alone after them. Every recording is kept, to become a fixture.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { CauseCode, Trace } from '../../src/trace/types.js';
import { schemaErrors } from '../unit/trace/schema-validator.js';
import { clients, clusterHook, freePort, LOCAL_REGISTRY, coreEvents, createPod, deletePod, ensureNamespace, keepRecording, simplePod, kubeconfigPath, NAMESPACE, runPodtrace, schedulableNodes, uniqueName, waitFor } from './harness.js';

let cwd: string;
let nodes: string[];
const QUOTA_NS = uniqueName('podtrace-e2e-quota');
const LIMITS_NS = uniqueName('podtrace-e2e-limits');
const SECRET = 'podtrace-e2e-causes-secret';
const PORT_HOLDER = 'podtrace-e2e-causes-port-holder';
const HOST_PORT = 18_080;

async function traced(label: string, args: string[], namespace = NAMESPACE, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; trace: Trace }> {
  const recording = path.join(cwd, `${label}.ndjson`);
  const result = await runPodtrace(['create', ...args, '-n', namespace, '--kubeconfig', kubeconfigPath(), '--out', `${label}.json`, '--record', recording], cwd, env);
  const trace = JSON.parse(readFileSync(path.join(cwd, `${label}.json`), 'utf8')) as Trace;
  expect(schemaErrors(trace), `${label}: the trace matches the schema`).toEqual([]);
  keepRecording(recording, trace, label);
  return { code: result.code, stdout: result.stdout, trace };
}

function manifest(label: string, yaml: string): string {
  const file = path.join(cwd, `${label}.yaml`);
  writeFileSync(file, `apiVersion: v1\nkind: Pod\nmetadata: { name: ${uniqueName(label)} }\n${yaml}`);
  return file;
}

function expectCause(trace: Trace, code: CauseCode): NonNullable<Trace['outcome']['cause']> {
  expect(trace.outcome.cause?.code, JSON.stringify(trace.outcome)).toBe(code);
  const cause = trace.outcome.cause!;
  expect(trace.outcome.hint).toBe(cause.hint);
  expect(cause.evidence.length).toBeGreaterThan(0);
  return cause;
}

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-causes-'));
  nodes = await schedulableNodes();
  const { core } = clients();
  const ignore409 = (e: { code?: number }) => (e.code === 409 ? undefined : Promise.reject(e));
  await core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata: { name: SECRET }, stringData: { present: 'x' } } }).catch(ignore409);
  await ensureNamespace(QUOTA_NS);
  await core.createNamespacedResourceQuota({ namespace: QUOTA_NS, body: { metadata: { name: 'no-pods' }, spec: { hard: { pods: '0' } } } }).catch(ignore409);
  await ensureNamespace(LIMITS_NS);
  await core
    .createNamespacedLimitRange({ namespace: LIMITS_NS, body: { metadata: { name: 'small' }, spec: { limits: [{ type: 'Container', max: { cpu: '100m' } }] } } })
    .catch(ignore409);
  // a pod that holds the host port on the first node, for the host-port conflict
  await core
    .createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: PORT_HOLDER },
        spec: { nodeSelector: { 'kubernetes.io/hostname': nodes[0]! }, containers: [{ name: 'main', image: 'nginx', ports: [{ containerPort: 80, hostPort: HOST_PORT }] }] },
      },
    })
    .catch(ignore409);
  await waitFor('the port holder to be scheduled', 60_000, async () => ((await core.readNamespacedPod({ name: PORT_HOLDER, namespace: NAMESPACE })).spec?.nodeName ? true : undefined));
}, 120_000);

afterAll(async () => {
  const { core } = clients();
  const quiet = () => undefined;
  await core.deleteNamespacedPod({ name: PORT_HOLDER, namespace: NAMESPACE, gracePeriodSeconds: 0 }).catch(quiet);
  await core.deleteNamespacedSecret({ name: SECRET, namespace: NAMESPACE }).catch(quiet);
  await core.deleteNamespace({ name: QUOTA_NS }).catch(quiet);
  await core.deleteNamespace({ name: LIMITS_NS }).catch(quiet);
  // nothing of podtrace's is left, whatever the outcome
  const left = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=podtrace' });
  expect(left.items.map((p) => p.metadata?.name)).toEqual([]);
});

describe.concurrent('the cause of a failure, with its own code and hint', () => {
  it('a liveness probe on a port nothing listens on: crash-loop, killed by the kubelet, not exited by itself', async () => {
    const file = manifest(
      'liveness',
      'spec:\n  containers:\n    - name: web\n      image: nginx\n' +
        '      livenessProbe: { tcpSocket: { port: 8081 }, periodSeconds: 1, failureThreshold: 1 }\n' +
        // not Ready before the kill: its readiness waits longer than the liveness probe
        '      readinessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 60 }\n',
    );
    const { code, trace } = await traced('cause-liveness', ['-f', file, '--timeout', '90s']);
    expect(trace.outcome.class).toBe('crash-loop');
    expect(code).toBe(EXIT.crashLoop);
    const cause = expectCause(trace, 'liveness-probe-kill');
    expect(cause.chain[1]).toMatch(/^killed by the kubelet after \d+ failed liveness probe\(s\) \(TCP port 8081, every 1 s, failureThreshold 1\), not exited on its own/);
    expect(cause.chain[2]).toMatch(/^Liveness probe failed: .*connection refused/);
    expect(cause.hint).toMatch(/nothing listens there \(connection refused\)/);
  });

  it('a startup probe that never passes: killed by the kubelet after its failures, the probe named', async () => {
    const file = manifest('startup', 'spec:\n  containers:\n    - name: web\n      image: nginx\n      startupProbe: { tcpSocket: { port: 8081 }, periodSeconds: 1, failureThreshold: 2 }\n');
    const { trace } = await traced('cause-startup', ['-f', file, '--timeout', '90s']);
    expect(trace.outcome.class).toBe('crash-loop');
    const cause = expectCause(trace, 'startup-probe-kill');
    expect(cause.chain[1]).toMatch(/^killed by the kubelet after \d+ failed startup probe\(s\) \(TCP port 8081, every 1 s, failureThreshold 2\)/);
    expect(cause.hint).toMatch(/raise failureThreshold × periodSeconds/);
  });

  it('a postStart hook that exits 3: the hook failed, the kubelet killed the container', async () => {
    const file = manifest('poststart', 'spec:\n  containers:\n    - name: web\n      image: nginx\n      lifecycle: { postStart: { exec: { command: [sh, -c, "exit 3"] } } }\n');
    const { trace } = await traced('cause-poststart', ['-f', file, '--timeout', '90s']);
    expect(trace.outcome.class).toBe('crash-loop');
    const cause = expectCause(trace, 'poststart-hook-failed');
    expect(cause.chain[1]).toBe('the postStart hook failed, so the kubelet killed the container');
    expect(cause.evidence[0]).toMatch(/^kubelet FailedPostStartHook event: /);
  });

  it('runAsNonRoot with an image that runs as root: the message says why, and the hint how', async () => {
    const file = manifest('nonroot', 'spec:\n  securityContext: { runAsNonRoot: true }\n  containers:\n    - { name: web, image: nginx }\n');
    const { code, trace } = await traced('cause-nonroot', ['-f', file, '--timeout', '15s']);
    expect(trace.outcome.class).toBe('container-config-error');
    expect(code).toBe(EXIT.containerConfigError);
    const cause = expectCause(trace, 'run-as-non-root');
    expect(cause.chain[2]).toMatch(/runAsNonRoot and image will run as root/);
    expect(cause.hint).toMatch(/runAsUser/);
  });

  it('a PersistentVolumeClaim that does not exist: unschedulable, and the claim named', async () => {
    const file = manifest(
      'nopvc',
      'spec:\n  volumes: [{ name: data, persistentVolumeClaim: { claimName: no-such-claim } }]\n' +
        '  containers:\n    - { name: web, image: nginx, volumeMounts: [{ name: data, mountPath: /data }] }\n',
    );
    const { trace } = await traced('cause-nopvc', ['-f', file, '--timeout', '15s']);
    expect(trace.outcome.class).toBe('unschedulable');
    const cause = expectCause(trace, 'pvc-not-found');
    expect(cause.chain[1]).toBe('the PersistentVolumeClaim "no-such-claim" it mounts does not exist');
    expect(cause.hint).toContain(`in namespace ${NAMESPACE}`);
  });

  it('a pod that runs to completion: its own class and exit code, not pod-failed', async () => {
    const file = manifest(
      'completes',
      'spec:\n  restartPolicy: Never\n  containers:\n    - name: job\n      image: nginx\n      command: [sh, -c, "exit 0"]\n' +
        '      readinessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1 }\n',
    );
    const { code, trace } = await traced('cause-completes', ['-f', file, '--timeout', '60s']);
    expect(trace.outcome.class).toBe('succeeded');
    expect(code).toBe(EXIT.succeeded);
    expect(expectCause(trace, 'completed').chain[0]).toMatch(/^Succeeded: every container ran to completion \(job exit code 0\)/);
  });

  it('a container over its memory limit: OOMKilled at its limit', async () => {
    const file = manifest(
      'oom',
      'spec:\n  containers:\n    - name: hog\n      image: nginx\n      command: [sh, -c, "head -c 300M /dev/zero | tail"]\n' +
        '      resources: { limits: { memory: 24Mi } }\n      readinessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1 }\n',
    );
    const { trace } = await traced('cause-oom', ['-f', file, '--timeout', '90s']);
    expect(trace.outcome.class).toBe('crash-loop');
    const cause = expectCause(trace, 'oom-killed');
    expect(cause.chain[1]).toMatch(/more memory than its limit \(24Mi\) \(OOMKilled, exit code 137\)/);
  });

  it('a container that exits by itself, with --logs: its exit code and its last lines', async () => {
    const file = manifest(
      'exits',
      'spec:\n  containers:\n    - name: app\n      image: nginx\n      command: [sh, -c, "echo starting; echo config file /etc/app.conf is missing >&2; exit 4"]\n' +
        '      readinessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1 }\n',
    );
    const { trace } = await traced('cause-exits', ['-f', file, '--logs', '10', '--timeout', '90s']);
    expect(trace.outcome.class).toBe('crash-loop');
    const cause = expectCause(trace, 'exited-error');
    expect(cause.chain[1]).toMatch(/^the container exited by itself with code 4 \(Error\)/);
    expect(cause.chain).toContain('log: config file /etc/app.conf is missing');
    expect(cause.hint).toMatch(/exits with code 4: read `kubectl logs --previous \S+ -c app`/);
  });

  it('an init container that fails: which one and its exit code', async () => {
    const file = manifest(
      'init',
      'spec:\n  initContainers:\n    - { name: migrate, image: nginx, command: [sh, -c, "exit 5"] }\n  containers:\n    - { name: web, image: nginx }\n',
    );
    const { trace } = await traced('cause-init', ['-f', file, '--timeout', '90s']);
    expect(trace.outcome.class).toBe('crash-loop');
    const cause = expectCause(trace, 'init-container-failed');
    expect(cause.chain[1]).toMatch(/^init container migrate exited with code 5 \(Error\): the app containers wait for it/);
  });

  it('a Secret that does not exist, and a key missing from one that does', async () => {
    const missing = manifest('nosecret', 'spec:\n  containers:\n    - { name: web, image: nginx, envFrom: [{ secretRef: { name: podtrace-e2e-no-such-secret } }] }\n');
    const noKey = manifest(
      'nokey',
      `spec:\n  containers:\n    - name: web\n      image: nginx\n      env: [{ name: TOKEN, valueFrom: { secretKeyRef: { name: ${SECRET}, key: absent } } }]\n`,
    );
    const [a, b] = await Promise.all([traced('cause-nosecret', ['-f', missing, '--timeout', '15s']), traced('cause-nokey', ['-f', noKey, '--timeout', '15s'])]);
    expect(a.trace.outcome.class).toBe('container-config-error');
    expect(expectCause(a.trace, 'secret-not-found').chain[1]).toBe('the Secret "podtrace-e2e-no-such-secret" it references does not exist');
    expect(b.trace.outcome.class).toBe('container-config-error');
    expect(expectCause(b.trace, 'secret-key-not-found').chain[1]).toBe(`Secret ${NAMESPACE}/${SECRET} has no key absent`);
  });

  it('requests no node can hold: each resource by name, with the amount asked', async () => {
    const { trace } = await traced('cause-insufficient', ['nginx', '--requests', 'cpu=1000,memory=1000Gi', '--timeout', '15s']);
    expect(trace.outcome.class).toBe('unschedulable');
    const cause = expectCause(trace, 'insufficient-resources');
    expect(cause.chain[1]).toBe("not enough allocatable cpu and memory for the pod's requests (cpu 1000, memory 1000Gi)");
    // the nodes as they were when the run stopped: the most any of them offers
    expect(cause.chain[2]).toMatch(/^the most any node allocates: cpu \d+m? \(podtrace-[a-z-]+\), memory \d+\w* \(podtrace-[a-z-]+\)$/);
  });

  it('a host port another pod holds on the only node the pod may use', async () => {
    const file = manifest('hostport', `spec:\n  containers:\n    - { name: web, image: nginx, ports: [{ containerPort: 80, hostPort: ${HOST_PORT} }] }\n`);
    const { trace } = await traced('cause-hostport', ['-f', file, '--node', nodes[0]!, '--timeout', '15s']);
    expect(trace.outcome.class).toBe('unschedulable');
    const cause = expectCause(trace, 'host-port-conflict');
    expect(cause.chain[1]).toBe(`the hostPort ${HOST_PORT} is already taken on the nodes it could use`);
  });

  it('images: no such repository, no such tag, a registry that cannot be asked, a registry nothing listens on, and imagePullPolicy Never without the image', async () => {
    const silent = await freePort();
    const [missing, noTag, direct, unasked, unreachable, never] = await Promise.all([
      traced('cause-noimage', ['podtrace/no-such-image:1', '--timeout', '30s']),
      traced('cause-notag', ['nginx:no-such-tag', '--timeout', '30s']),
      traced('cause-notag-direct', [`${LOCAL_REGISTRY}/podtrace/crash:no-such-tag`, '--timeout', '30s']),
      // the mirror podtrace is told of does not answer: the cause stays "not found", and says why
      traced('cause-noimage-unasked', ['podtrace/no-such-image:2', '--timeout', '30s'], NAMESPACE, { PODTRACE_REGISTRY_MIRRORS: `docker.io=http://127.0.0.1:${silent}` }),
      traced('cause-noregistry', ['127.0.0.1:1/podtrace/nothing-listens:1', '--timeout', '30s']),
      traced('cause-neverpull', ['podtrace/never-pulled:1', '--pull-policy', 'Never', '--timeout', '30s']),
    ]);
    expect(missing.trace.outcome.class).toBe('image-pull-not-found');
    const repo = expectCause(missing.trace, 'repository-not-found');
    expect(repo.chain[1]).toBe('the registry docker.io has no repository podtrace/no-such-image');
    expect(repo.evidence.at(-1)).toBe(`registry tags list (http://${LOCAL_REGISTRY}): repository podtrace/no-such-image unknown`);
    expect(noTag.trace.outcome.class).toBe('image-pull-not-found');
    const tag = expectCause(noTag.trace, 'tag-not-found');
    expect(tag.chain[1]).toBe('the repository library/nginx on docker.io has no tag no-such-tag');
    expect(tag.hint).toMatch(/^The repository library\/nginx exists on docker\.io but has no tag no-such-tag \(its tags: (\S+, )*latest(, \S+)*\): fix the tag\.$/);
    // a registry the image names itself, on loopback: asked over https, then http (as containerd does)
    expect(expectCause(direct.trace, 'tag-not-found').chain[1]).toBe(`the repository podtrace/crash on ${LOCAL_REGISTRY} has no tag no-such-tag`);
    const unknown = expectCause(unasked.trace, 'image-not-found');
    expect(unknown.chain[1]).toBe('the registry docker.io has no docker.io/podtrace/no-such-image:2');
    expect(unknown.hint).toMatch(new RegExp(`\\(podtrace could not ask the registry: cannot reach http://127\\.0\\.0\\.1:${silent}: .*ECONNREFUSED.*\\)\\.$`));
    expect(unreachable.trace.outcome.class).toBe('image-pull-backoff');
    const down = expectCause(unreachable.trace, 'registry-unreachable');
    expect(down.chain[1]).toMatch(/^podtrace-\S+ cannot reach the registry 127\.0\.0\.1:1$/);
    expect(down.chain[2]).toMatch(/connection refused/);
    expect(never.trace.outcome.class).toBe('container-config-error');
    expect(never.code).toBe(EXIT.containerConfigError);
    expect(expectCause(never.trace, 'image-never-pull').chain[1]).toMatch(/^imagePullPolicy is Never and the image is not on node podtrace-/);
  });

  it('a ResourceQuota used up and a LimitRange exceeded: the API server refused, and which rule', async () => {
    const [quota, limits] = await Promise.all([
      traced('cause-quota', ['nginx'], QUOTA_NS),
      traced('cause-limitrange', ['nginx', '--requests', 'cpu=200m', '--limits', 'cpu=200m'], LIMITS_NS),
    ]);
    expect(quota.trace.outcome.class).toBe('admission-rejected');
    expect(quota.code).toBe(EXIT.admissionRejected);
    expect(expectCause(quota.trace, 'quota-exceeded').chain[1]).toBe('ResourceQuota no-pods would be exceeded (requested pods=1, used pods=0, limited pods=0)');
    expect(limits.trace.outcome.class).toBe('admission-rejected');
    expect(expectCause(limits.trace, 'limit-range').chain[1]).toBe("a LimitRange sets the maximum cpu per Container to 100m, and the pod's limit is 200m");
  });
});

describe('the cause of a failure, on a tainted node', () => {
  it('a node whose taint the pod does not tolerate: the taint named, and how to lift it', async () => {
    const node = nodes.at(-1)!;
    const taint = { key: 'podtrace.dev/e2e-causes', value: 'x', effect: 'NoSchedule' };
    const { core } = clients();
    const { PatchStrategy, setHeaderOptions } = await import('@kubernetes/client-node');
    const setTaints = (taints: Array<typeof taint>) =>
      core.patchNode({ name: node, body: { spec: { taints } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const before = (await core.readNode({ name: node })).spec?.taints ?? [];
    await setTaints([...(before as Array<typeof taint>), taint]);
    try {
      const { trace } = await traced('cause-taint', ['nginx', '--node', node, '--timeout', '15s']);
      expect(trace.outcome.class).toBe('unschedulable');
      const cause = expectCause(trace, 'untolerated-taint');
      // the scheduler's message only counts the nodes with untolerated taints: the nodes read at the failure name it
      expect(cause.chain[1]).toBe(`taints the pod does not tolerate: ${node}: podtrace.dev/e2e-causes=x:NoSchedule`);
      expect(cause.hint).toContain(`kubectl taint nodes ${node} podtrace.dev/e2e-causes-`);
    } finally {
      await setTaints(before as Array<typeof taint>);
    }
  });
});

describe('where the time went, when a pull waited for another', () => {
  it("a pull queued behind another on a node that pulls one image at a time: the wait named, and the kubelet's /configz says why", async () => {
    const node = nodes.at(-1)!;
    const answer = (await clients().core.connectGetNodeProxyWithPath({ name: node, path: 'configz' })) as unknown;
    const configz = (typeof answer === 'string' ? JSON.parse(answer) : answer) as { kubeletconfig: { serializeImagePulls: boolean } };
    // the local cluster's worker keeps the kubelet's default, as kind's nodes do
    expect(configz.kubeletconfig.serializeImagePulls).toBe(true);
    // A registry that takes connections and never answers: the pull in front holds the node's one
    // pull slot for as long as the test wants, whatever the machine's speed.
    const sockets = new Set<Socket>();
    const stall = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    }).listen(0, '127.0.0.1');
    await once(stall, 'listening');
    const port = (stall.address() as { port: number }).port;
    const blocker = simplePod(uniqueName('pull-blocker'), `127.0.0.1:${port}/podtrace/stall:1`, { nodeSelector: { 'kubernetes.io/hostname': node } });
    const name = uniqueName('explain-waited');
    try {
      await clusterHook('rmi', 'podtrace/slow-ready', node);
      await createPod(blocker);
      await waitFor('the blocking pull to reach the registry', 60_000, async () => (sockets.size > 0 ? true : undefined));
      const traced_ = traced('explain-waited', ['podtrace/slow-ready', '--name', name, '--env', 'READY_AFTER=0', '--node', node, '--timeout', '120s']);
      // once our pull is asked for (its Pulling event), let it wait a while, then end the one in front
      await waitFor('our pull to be asked for', 60_000, async () => ((await coreEvents(name)).some((e) => e.reason === 'Pulling') ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const socket of sockets) socket.destroy();
      stall.close();
      const { trace } = await traced_;
      expect(trace.outcome.class).toBe('ready');
      const c = trace.containers[0]!;
      expect(c.pullIncludingWaitingMs! - c.pullMs!).toBeGreaterThan(1000);
      const image = trace.explain!.parts.find((p) => p.step === 'image')!;
      expect(image.notes![0]).toMatch(/, after \S+ waiting for other pulls: the kubelet pulls one image at a time \(serializeImagePulls: true, its \/configz\)$/);
    } finally {
      for (const socket of sockets) socket.destroy();
      stall.close();
      await deletePod(blocker.metadata!.name!);
    }
  });

  it("many pulls at once on a node that pulls in parallel: the kubelet's own pull rate limit refuses some, named with its /configz, in a failure and in a Ready pod's explanation", async () => {
    // imagePullPolicy Always: every container asks for a pull, one after another in the pod's sync.
    // The kubelet's default registryPullQPS refills 5 tokens a second into a bucket of 10, and one
    // pod's sync asks for about one pull every 150 ms, barely faster: a pod alone can get through
    // dozens of pulls (seen in CI: 12 pulls after another pod's refusal, none refused). Two pods
    // pulling at once ask for twice that, so both run into the limit: the first has 30 containers
    // and times out in its back-off, the second's 16 are pulled again after it.
    const pod = (label: string, containers: number): string =>
      manifest(
        label,
        `spec:\n  containers:\n${Array.from({ length: containers }, (_, i) => `    - { name: c${i}, image: nginx, imagePullPolicy: Always, command: [sleep, infinity] }`).join('\n')}\n`,
      );
    const node = nodes.find((n) => n.endsWith('-control-plane')) ?? nodes[0]!;
    const [failing, ready] = await Promise.all([
      traced('cause-pull-qps', ['-f', pod('pullqps', 30), '--node', node, '--timeout', '8s']),
      traced('explain-pull-qps', ['-f', pod('pullqps-ready', 16), '--node', node, '--timeout', '120s']),
    ]);
    expect(failing.trace.outcome.class, JSON.stringify(failing.trace.outcome)).toBe('image-pull-backoff');
    const qps = expectCause(failing.trace, 'registry-pull-qps');
    expect(qps.chain[1]).toBe(`the kubelet on ${node} refused the pull itself: its own limit on pulls per second was used up (registryPullQPS 5/s, registryBurst 10, from its /configz)`);
    expect(qps.evidence).toContain(`kubelet /configz on ${node}: registryPullQPS 5/s, registryBurst 10`);
    expect(ready.trace.outcome.class, JSON.stringify(ready.trace.outcome)).toBe('ready');
    const retried = ready.trace.containers.filter((c) => /pull QPS exceeded/.test(c.pullFailure?.message ?? ''));
    expect(retried.length, JSON.stringify(ready.trace.containers.map((c) => [c.name, c.pull, c.pullFailure]))).toBeGreaterThan(0);
    const image = ready.trace.explain!.parts.find((p) => p.step === 'image')!;
    expect(image.notes![0]).toMatch(/^c\d+: its first pull failed \(pull QPS exceeded: the kubelet's own pull rate limit, registryPullQPS 5\/s with a burst of 10 \(its \/configz\)\) and the kubelet backed off; it started \S+ later$/);
    // the back-off is the longest step on the way to Ready, and the summary says so first
    expect(ready.trace.explain!.summary).toMatch(/^\S+ to Ready: image pull \S+ \(\d+ %, c\d+: its first pull failed \(pull QPS exceeded/);
  });
});
