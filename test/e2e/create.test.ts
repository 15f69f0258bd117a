/**
 * `podtrace create` against the real cluster, through the built CLI (hack/test.sh
 * builds it first). Every run must leave no pod behind; every recording is kept
 * under test-artifacts/recordings, named after its outcome, so it can become a
 * fixture for the unit tests of reconstruct().
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { schemaErrors } from '../unit/trace/schema-validator.js';
import { REPO_DIR } from './cluster-provider.js';
import {
  type CliResult,
  clients,
  clusterHook,
  ensureNamespace,
  freePort,
  ensureRuntimeClass,
  keepRecording,
  kubeconfigPath,
  NAMESPACE,
  runPodtrace,
  serviceAccountKubeconfig,
} from './harness.js';


const podtrace = runPodtrace;
type Result = CliResult;

/** Runs `podtrace create ARGS -o json --record` and returns the parsed trace. */
async function traced(label: string, args: string[], cwd: string): Promise<{ result: Result; trace: Trace }> {
  const recording = path.join(cwd, `${label}.ndjson`);
  const result = await podtrace(
    ['create', ...args, '--kubeconfig', kubeconfigPath(), '-o', 'json', '--out', `${label}.json`, '--record', recording],
    cwd,
  );
  if (!result.stdout.trim().startsWith('{')) throw new Error(`podtrace printed no trace (exit ${result.code}): ${result.stderr}`);
  const trace = JSON.parse(result.stdout) as Trace;
  expect(schemaErrors(trace), `${label}: the trace matches schema/trace.schema.json`).toEqual([]);
  keepRecording(recording, trace, label);
  return { result, trace };
}

async function podtracePods(namespace = NAMESPACE): Promise<string[]> {
  const list = await clients().core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/managed-by=podtrace' });
  return list.items.map((p) => String(p.metadata?.name));
}

/** Writes a pod manifest for -f into the test's directory; returns its path. */
function podManifest(name: string, yaml: string): string {
  const file = path.join(cwd, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/** Milestone by id; `container.main.` names the pod's first container, whatever its name. */
function milestone(trace: Trace, id: string) {
  const first = trace.containers.find((c) => c.kind === 'app')?.name ?? 'main';
  const resolved = id.replace(/^container\.main\./, `container.${first}.`);
  return trace.milestones.find((m) => m.id === resolved);
}

let cwd: string;
beforeAll(() => {
  if (!existsSync(path.join(REPO_DIR, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run npm run build before the e2e tests');
  cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-e2e-'));
});
afterEach(async () => {
  expect(await podtracePods()).toEqual([]); // nothing left behind, whatever the outcome
});

describe('podtrace create: a pod that becomes Ready', () => {
  it('traces a cold nginx through every step, then a warm one with the image already present', async () => {
    await clusterHook('rmi', 'nginx');
    const { result, trace } = await traced('nginx-cold', ['nginx', '--pull-policy', 'IfNotPresent'], cwd);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stderr).toMatch(/trace saved to nginx-cold\.json/);
    expect(JSON.parse(readFileSync(path.join(cwd, 'nginx-cold.json'), 'utf8'))).toEqual(trace);
    expect(trace.outcome.class).toBe('ready');
    expect(trace.pod.name).toMatch(/^podtrace-nginx-[a-z0-9]{5}$/);

    const order = [
      'client.kubeconfig',
      'client.credentials',
      'api.post-sent',
      'api.accepted',
      'scheduler.scheduled',
      'kubelet.acknowledged',
      'runtime.sandbox-ready',
      'container.main.pulling',
      'container.main.pulled',
      'container.main.created',
      'container.main.started',
      'pod.ready',
      'teardown.delete-sent',
      'teardown.killing',
      'teardown.containers-terminated',
      'teardown.pod-gone',
    ];
    const at = order.map((id) => {
      const m = milestone(trace, id);
      expect(m, `milestone ${id}`).toBeDefined();
      return m!.at;
    });
    for (let i = 1; i < at.length; i++) expect(at[i]!, `${order[i]} after ${order[i - 1]}`).toBeGreaterThanOrEqual(at[i - 1]!);
    // the POST's own round trip, send to the 201 response, is a step of its own
    const roundTrip = trace.phases.find((p) => p.id === 'api.post-round-trip');
    expect(roundTrip).toMatchObject({ kind: 'reported', startOffsetMs: 0, label: 'POST → 201 response (client-measured)' });
    expect(roundTrip!.durationMs).toBeGreaterThan(0);
    expect(milestone(trace, 'api.accepted')!.offsetMs).toBeLessThanOrEqual(roundTrip!.durationMs + 0.001);
    expect(milestone(trace, 'teardown.killing')!.source).toBe('event-name-ns');
    // identity and access reviews run in parallel, both before the POST
    for (const id of ['client.identity', 'client.authorized']) expect(milestone(trace, id)!.at).toBeLessThanOrEqual(at[2]!);
    for (const m of trace.milestones) {
      expect(m.source, `source of ${m.id}`).toBeTruthy();
      expect(m.precisionMs, `precision of ${m.id}`).toBeGreaterThanOrEqual(0);
    }
    // the kubelet's events carry sub-millisecond server times in their names
    for (const id of ['container.main.pulling', 'container.main.pulled', 'container.main.created', 'container.main.started']) {
      expect(milestone(trace, id)!.source).toBe('event-name-ns');
      expect(milestone(trace, id)!.precisionMs).toBeLessThan(1);
    }
    expect(milestone(trace, 'scheduler.scheduled')!.precisionMs).toBeLessThanOrEqual(0.001);

    const container = trace.containers[0];
    expect(container?.image).toBe('nginx');
    expect(container?.name).toBe('nginx');
    expect(container?.pull).toBe('pulled');
    expect(container?.pullMs).toBeGreaterThan(0);
    expect(container?.imageSizeBytes).toBeGreaterThan(10_000_000);
    expect(container?.pullMs).toBeGreaterThan(500); // a cold pull unpacks 58 MB: never a few ms
    expect((await clients().core.listNode()).items.map((n) => n.metadata?.name)).toContain(trace.node?.name);
    expect(trace.node?.kubeletVersion).toBe('v1.34.12');
    // the node as it was when the pod was bound to it
    expect(trace.node?.containerRuntimeVersion).toMatch(/^containerd:\/\/\d+\.\d+/);
    expect(trace.node?.kernelVersion).toBe(release());
    expect(trace.node?.osImage).toMatch(/\S/);
    expect(trace.node?.architecture).toBe(process.arch === 'x64' ? 'amd64' : process.arch);
    expect(trace.node?.conditionsAtStart).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    expect(trace.node?.conditionChanges).toEqual([]);
    expect(trace.node?.resources.pods).toMatchObject({ requestedValue: 1, allocatableValue: 110 });
    expect(trace.pod.qosClass).toBe('BestEffort');
    expect(trace.identity?.username).toBe('podtrace-admin');

    // on the same node, where the image now is
    const warm = await traced('nginx-warm', ['nginx', '--pull-policy', 'IfNotPresent', '--node', trace.node!.name], cwd);
    expect(warm.result.code).toBe(EXIT.ok);
    expect(warm.trace.containers[0]?.pull).toBe('present');
    expect(milestone(warm.trace, 'container.main.image-present')).toBeDefined();
  });

  it('shows what admission and defaulting changed', async () => {
    const { trace } = await traced('nginx-latest', ['nginx:latest'], cwd);
    const paths = trace.admission.changes.map((c) => c.path);
    expect(paths).toContain('spec.containers[0].imagePullPolicy'); // Always, for :latest
    expect(paths.some((p) => p.startsWith('spec.tolerations'))).toBe(true); // DefaultTolerationSeconds
    expect(paths.some((p) => p.startsWith('spec.volumes'))).toBe(true); // the ServiceAccount token volume
  });

  it('traces every container of a manifest with an init container and two containers', async () => {
    const manifest = podManifest(
      'multi',
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: { generateName: podtrace-multi- }',
        'spec:',
        '  terminationGracePeriodSeconds: 1',
        '  initContainers:',
        '    - { name: setup, image: nginx, imagePullPolicy: IfNotPresent, command: [sh, -c, "sleep 1"] }',
        '  containers:',
        '    - { name: web, image: nginx, imagePullPolicy: IfNotPresent }',
        '    - name: probe',
        '      image: podtrace/slow-ready',
        '      env: [{ name: READY_AFTER, value: "2" }]',
        '      readinessProbe: { httpGet: { path: /ready, port: 8080 }, periodSeconds: 1 }',
        '',
      ].join('\n'),
    );
    const { result, trace } = await traced('multi', ['-f', manifest], cwd);
    expect(result.code).toBe(EXIT.ok);
    expect(trace.containers.map((c) => c.name).sort()).toEqual(['probe', 'setup', 'web']);
    expect(trace.containers.find((c) => c.name === 'setup')?.kind).toBe('init');
    const setupDone = milestone(trace, 'container.setup.completed')!;
    for (const name of ['web', 'probe']) {
      const started = milestone(trace, `container.${name}.started`);
      expect(started, `${name} started`).toBeDefined();
      expect(started!.at).toBeGreaterThanOrEqual(setupDone.at);
    }
    expect(milestone(trace, 'pod.initialized')).toBeDefined();
  });

  it('waits for a readiness probe and lists its failures', async () => {
    const { result, trace } = await traced('slow-ready', ['podtrace/slow-ready', '--env', 'READY_AFTER=3', '--readiness', 'http:8080/ready'], cwd);
    expect(result.code).toBe(EXIT.ok);
    const started = milestone(trace, 'container.main.started')!;
    const ready = milestone(trace, 'pod.ready')!;
    expect(ready.at - started.at).toBeGreaterThanOrEqual(2_000);
    expect(milestone(trace, 'container.main.readiness-failed')).toBeDefined();
  });
});

describe('podtrace create: failures are classified results', () => {
  const cases: { label: string; args: string[]; cls: string; exit: number; cause?: string; check?: (trace: Trace) => void }[] = [
    {
      label: 'missing-image',
      args: ['podtrace/missing'],
      cls: 'image-pull-not-found',
      cause: 'repository-not-found',
      exit: EXIT.imagePullNotFound,
      check: (trace) => expect(trace.outcome.message).toMatch(/not found/),
    },
    {
      // hack/cluster.sh runs a registry on 127.0.0.1:5001 that wants a password nobody has
      label: 'unauthorized',
      args: ['127.0.0.1:5001/podtrace/private'],
      cls: 'image-pull-unauthorized',
      cause: 'registry-unauthorized',
      exit: EXIT.imagePullUnauthorized,
      check: (trace) => expect(trace.outcome.message).toMatch(/401|unauthorized/i),
    },
    {
      label: 'unreachable-registry',
      args: ['127.0.0.1:1/podtrace/nothing-listens', '--timeout', '20s'],
      cls: 'image-pull-backoff',
      cause: 'registry-unreachable',
      exit: EXIT.imagePullBackoff,
    },
    {
      label: 'crash',
      // without a readiness probe a container that exits at once can look Ready for an instant
      args: ['podtrace/crash', '--readiness', 'tcp:8080'],
      cls: 'crash-loop',
      cause: 'exited-error',
      exit: EXIT.crashLoop,
      check: (trace) => expect(trace.containers[0]?.lastTermination?.exitCode).toBe(1),
    },
    {
      label: 'unschedulable',
      args: ['nginx', '--requests', 'cpu=1000', '--timeout', '20s'],
      cls: 'unschedulable',
      cause: 'insufficient-resources',
      exit: EXIT.unschedulable,
      check: (trace) => expect(trace.scheduling.attempts[0]?.message).toMatch(/Insufficient cpu/),
    },
    {
      label: 'never-ready',
      args: ['podtrace/slow-ready', '--env', 'READY_AFTER=3600', '--readiness', 'http:8080/ready', '--timeout', '15s'],
      cls: 'readiness-never-succeeded',
      cause: 'readiness-probe-failing',
      exit: EXIT.readinessNeverSucceeded,
    },
    {
      label: 'pull-timeout',
      args: ['podtrace/big', '--timeout', '1s'],
      cls: 'timeout',
      exit: EXIT.timeout,
    },
  ];

  for (const c of cases) {
    it(`${c.label}: ${c.cls}, exit ${c.exit}`, async () => {
      if (c.label === 'pull-timeout') await clusterHook('rmi', 'podtrace/big');
      const { result, trace } = await traced(c.label, c.args, cwd);
      expect(trace.outcome.class).toBe(c.cls);
      expect(result.code).toBe(c.exit);
      expect(trace.outcome.hint).toBeTruthy();
      expect(trace.outcome.phase).toBeTruthy();
      // the specific cause, and its hint is the outcome's
      if (c.cause !== undefined) expect(trace.outcome.cause).toMatchObject({ code: c.cause, hint: trace.outcome.hint });
      else expect(trace.outcome.cause).toBeUndefined();
      c.check?.(trace);
    });
  }

  it('a container config error (a missing ConfigMap): exit 15', async () => {
    const manifest = podManifest(
      'config-error',
      'apiVersion: v1\nkind: Pod\nmetadata: { generateName: podtrace-cfg- }\nspec:\n  containers:\n' +
        '    - name: main\n      image: nginx\n      envFrom: [{ configMapRef: { name: podtrace-e2e-no-such-config } }]\n',
    );
    const { result, trace } = await traced('config-error', ['-f', manifest, '--timeout', '20s'], cwd);
    expect(trace.outcome.class).toBe('container-config-error');
    expect(trace.outcome.cause?.code).toBe('configmap-not-found');
    expect(trace.outcome.reason).toBe('CreateContainerConfigError');
    expect(result.code).toBe(EXIT.containerConfigError);
  });

  it('a pod that exits without restarting: pod-failed, exit 22', async () => {
    const manifest = podManifest(
      'once',
      'apiVersion: v1\nkind: Pod\nmetadata: { generateName: podtrace-once- }\nspec:\n  restartPolicy: Never\n' +
        // a readiness probe that never passes: without one, the kubelet may report the container
        // Ready in the moment before it exits, and the pod was then Ready, for a moment
        '  containers:\n    - { name: main, image: podtrace/crash, readinessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1 } }\n',
    );
    const { result, trace } = await traced('once', ['-f', manifest], cwd);
    expect(trace.outcome.class).toBe('pod-failed');
    expect(trace.outcome.cause?.code).toBe('exited-error');
    expect(result.code).toBe(EXIT.podFailed);
  });

  it('a sandbox that cannot be created (unknown runtime handler): exit 16', async () => {
    await ensureRuntimeClass('podtrace-e2e-missing-handler', 'no-such-handler');
    const manifest = podManifest(
      'sandbox',
      'apiVersion: v1\nkind: Pod\nmetadata: { generateName: podtrace-sandbox- }\nspec:\n  runtimeClassName: podtrace-e2e-missing-handler\n' +
        '  containers:\n    - { name: main, image: nginx }\n',
    );
    const { result, trace } = await traced('sandbox', ['-f', manifest, '--timeout', '20s'], cwd);
    expect(trace.outcome.class).toBe('sandbox-failure');
    expect(trace.outcome.cause?.code).toBe('sandbox-failed');
    expect(trace.outcome.message).toMatch(/no-such-handler/);
    expect(result.code).toBe(EXIT.sandboxFailure);
  });

  it('rejected by admission (PodSecurity restricted): exit 18, with the server message', async () => {
    const ns = await ensureNamespace('podtrace-e2e-restricted', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const { result, trace } = await traced('admission', ['nginx', '-n', ns], cwd);
    expect(trace.outcome.class).toBe('admission-rejected');
    expect(trace.outcome.cause?.code).toBe('pod-security');
    expect(trace.outcome.message).toMatch(/violates PodSecurity "restricted/);
    expect(result.code).toBe(EXIT.admissionRejected);
    expect(await podtracePods(ns)).toEqual([]);
  });

  it('rejected by validation: exit 19, with the server message', async () => {
    // valid to podtrace's own checks; only the API server's validation refuses it
    const manifest = podManifest(
      'invalid',
      'apiVersion: v1\nkind: Pod\nmetadata: { generateName: podtrace-invalid- }\nspec:\n  containers:\n' +
        '    - { name: main, image: nginx, resources: { requests: { cpu: 500m }, limits: { cpu: 100m } } }\n',
    );
    const { result, trace } = await traced('invalid', ['-f', manifest], cwd);
    expect(trace.outcome.class).toBe('validation-rejected');
    expect(trace.outcome.cause?.code).toBe('invalid-spec');
    expect(trace.outcome.message).toMatch(/must be less than or equal to cpu limit/);
    expect(result.code).toBe(EXIT.validationRejected);
  });

  it('forbidden by RBAC: stops at the authorization step, exit 20', async () => {
    const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'nobody.kubeconfig'), 'podtrace-e2e-nobody');
    const recording = path.join(cwd, 'forbidden.ndjson');
    const result = await podtrace(['create', 'nginx', '--kubeconfig', kubeconfig, '-o', 'json', '--out', 'forbidden.json', '--record', recording], cwd);
    const trace = JSON.parse(result.stdout) as Trace;
    keepRecording(recording, trace, 'nobody');
    expect(trace.outcome.class).toBe('forbidden');
    expect(trace.outcome.cause?.code).toBe('rbac-forbidden');
    expect(result.code).toBe(EXIT.forbidden);
    expect(milestone(trace, 'api.post-sent')).toBeUndefined(); // nothing was sent
    expect(trace.outcome.message).toMatch(/podtrace-e2e-nobody/);
  });
});

describe('podtrace create: bad input is one clear line, before anything is created', () => {
  const rows: { label: string; args: () => Promise<string[]>; exit: number; line: RegExp; env?: Record<string, string> }[] = [
    { label: 'malformed image reference', args: async () => ['NGINX:', '--kubeconfig', kubeconfigPath()], exit: EXIT.usage, line: /image/i },
    { label: 'invalid pod name', args: async () => ['nginx', '--name', 'Bad_Name', '--kubeconfig', kubeconfigPath()], exit: EXIT.usage, line: /name/i },
    {
      label: 'unknown namespace',
      args: async () => ['nginx', '-n', 'podtrace-e2e-missing', '--kubeconfig', kubeconfigPath()],
      exit: EXIT.namespaceNotFound,
      line: /namespace "podtrace-e2e-missing" .*does not exist/,
    },
    {
      label: 'unreachable cluster',
      args: async () => {
        const file = path.join(cwd, 'refused.kubeconfig');
        const port = await freePort();
        writeFileSync(file, readFileSync(kubeconfigPath(), 'utf8').replace(/server: https:\/\/\S+/, `server: https://127.0.0.1:${port}`));
        return ['nginx', '--kubeconfig', file];
      },
      exit: EXIT.unreachable,
      line: /cannot reach the API server at https:\/\/127\.0\.0\.1:\d+/,
    },
    {
      label: 'missing kubeconfig, no fallback to localhost:8080',
      args: async () => ['nginx'],
      env: { KUBECONFIG: '', HOME: '/nonexistent-home' },
      exit: EXIT.kubeconfig,
      line: /kubeconfig/i,
    },
    { label: 'unknown context', args: async () => ['nginx', '--context', 'nope', '--kubeconfig', kubeconfigPath()], exit: EXIT.kubeconfig, line: /context "nope"/ },
    {
      label: 'invalid -f file',
      args: async () => {
        const file = path.join(cwd, 'not-a-pod.yaml');
        writeFileSync(file, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\n');
        return ['-f', file, '--kubeconfig', kubeconfigPath()];
      },
      exit: EXIT.usage,
      line: /Pod/,
    },
  ];

  for (const row of rows) {
    it(row.label, async () => {
      const before = await podtracePods();
      const result = await podtrace(['create', ...(await row.args())], cwd, row.env);
      expect(result.code).toBe(row.exit);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(row.line);
      expect(result.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
      expect(await podtracePods()).toEqual(before);
    });
  }
});
