/**
 * What the end-to-end tests share: clients for the provided cluster, pods
 * that clean up after themselves, polling waits, and the local cluster's
 * hooks (restart a component, remove an image from the node).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import {
  CoreV1Api,
  EventsV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type CoreV1Event,
  type EventsV1Event,
  type V1ClusterRole,
  type V1Pod,
  type V1Role,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { inject } from 'vitest';
import type { Trace } from '../../src/trace/types.js';
import { CLUSTER_SCRIPT, REPO_DIR } from './cluster-provider.js';

const run = promisify(execFile);
export const NAMESPACE = 'default';
/** The local cluster's registry: its nodes pull docker.io's images from it (hack/cluster.sh). */
export const LOCAL_REGISTRY = '127.0.0.1:5000';

// After a pull "not found", podtrace asks the registry which of repository and tag is missing: on
// the local cluster, the registry its nodes really pull docker.io from (nothing leaves the machine).
if (inject('clusterProvider') === 'local') process.env['PODTRACE_REGISTRY_MIRRORS'] ??= `docker.io=http://${LOCAL_REGISTRY}`;

export function kubeconfigPath(): string {
  return inject('kubeconfig');
}

/** The Jaeger query API the cluster's components export their spans to. */
export function spansUrl(): string {
  const url = inject('spans');
  if (!url) {
    throw new Error(
      `this test reads the components' spans, and the ${inject('clusterProvider')} cluster names no trace backend: set PODTRACE_E2E_SPANS to its Jaeger query API`,
    );
  }
  return url;
}

/** The OTLP/HTTP endpoint of the same backend (the local cluster's Jaeger receives on 4318), for pushes. */
export function otlpUrl(): string {
  const spans = spansUrl();
  if (spans === 'http://127.0.0.1:16686') return 'http://127.0.0.1:4318';
  const url = process.env['PODTRACE_E2E_OTLP'];
  if (!url) throw new Error(`this test pushes a trace to ${spans}'s backend: set PODTRACE_E2E_OTLP to its OTLP/HTTP endpoint`);
  return url;
}

/**
 * A second Jaeger, empty (nothing exports to it), on other loopback ports: a
 * real backend of a cluster whose tracing is off. From the local cluster's
 * build of Jaeger (hack/build-jaeger.sh).
 */
export async function startEmptyJaeger(dir: string): Promise<{ url: string; stop: () => void }> {
  const bin = execFileSync('bash', ['-c', 'source hack/lib/common.sh && echo "$JAEGER_BIN_DIR/jaeger"'], { cwd: REPO_DIR, encoding: 'utf8' }).trim();
  const config = path.join(dir, 'empty-jaeger.yaml');
  writeFileSync(
    config,
    [
      'service:',
      '  extensions: [jaeger_storage, jaeger_query, healthcheckv2]',
      '  pipelines:',
      '    traces: { receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter] }',
      '  telemetry: { metrics: { level: none }, logs: { level: warn } }',
      'extensions:',
      '  jaeger_storage: { backends: { memstore: { memory: { max_traces: 1000 } } } }',
      '  jaeger_query: { storage: { traces: memstore }, enable_tracing: false, http: { endpoint: 127.0.0.1:16696 }, grpc: { endpoint: 127.0.0.1:16695 } }',
      '  healthcheckv2: { use_v2: true, http: { endpoint: 127.0.0.1:13143 } }',
      'receivers:',
      '  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:4327 }, http: { endpoint: 127.0.0.1:4328 } } }',
      'processors: { batch: {} }',
      'exporters: { jaeger_storage_exporter: { trace_storage: memstore } }',
      '',
    ].join('\n'),
  );
  const child = spawn(bin, ['--config', `file:${config}`], { stdio: 'ignore' });
  const stop = () => void child.kill('SIGTERM');
  try {
    await waitFor('the empty Jaeger to answer', 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}`);
      return fetch('http://127.0.0.1:13143/status').then((r) => (r.ok ? true : undefined), () => undefined);
    });
  } catch (error) {
    stop();
    throw error;
  }
  return { url: 'http://127.0.0.1:16696', stop };
}

export function clients() {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return { kc, core: kc.makeApiClient(CoreV1Api), events: kc.makeApiClient(EventsV1Api) };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Runs hack/cluster.sh with the given arguments; only the local cluster has these hooks. */
export async function clusterHook(...args: string[]): Promise<string> {
  if (!inject('clusterHooks')) {
    throw new Error(
      `this test needs the local cluster's hooks (hack/cluster.sh ${args[0]}), and the tests run on the ` +
        `${inject('clusterProvider')} cluster: unset PODTRACE_E2E_KUBECONFIG to use the local cluster`,
    );
  }
  const { stdout } = await run('bash', [CLUSTER_SCRIPT, ...args], { timeout: 300_000 });
  return stdout;
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The names of the nodes that take pods, sorted: Ready, not cordoned, no NoSchedule/NoExecute taint (kind taints its control plane). */
export async function schedulableNodes(): Promise<string[]> {
  return (await clients().core.listNode()).items
    .filter((n) => !n.spec?.unschedulable && !(n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'))
    .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata!.name!)
    .sort();
}

/** The first of them. */
export async function schedulableNode(): Promise<string> {
  const nodes = await schedulableNodes();
  if (nodes.length === 0) throw new Error('no node takes pods (kubectl get nodes)');
  return nodes[0]!;
}

export function simplePod(name: string, image: string, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'podtrace-e2e' } },
    spec: { containers: [{ name: 'main', image }], terminationGracePeriodSeconds: 1, ...extra },
  };
}

export async function createPod(pod: V1Pod): Promise<V1Pod> {
  return clients().core.createNamespacedPod({ namespace: NAMESPACE, body: pod });
}

export async function deletePod(name: string): Promise<void> {
  await clients()
    .core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 })
    .catch(() => undefined);
}

export async function waitForPodGone(name: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`pod ${name} to be gone`, timeoutMs, async () => {
    try {
      await clients().core.readNamespacedPod({ name, namespace: NAMESPACE });
      return undefined;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return true;
      throw error;
    }
  });
}

export async function readPod(name: string): Promise<V1Pod> {
  return clients().core.readNamespacedPod({ name, namespace: NAMESPACE });
}

export function condition(pod: V1Pod, type: string): string | undefined {
  return pod.status?.conditions?.find((c) => c.type === type)?.status;
}

export async function waitForPod(name: string, what: string, timeoutMs: number, ok: (pod: V1Pod) => boolean): Promise<V1Pod> {
  return waitFor(`pod ${name}: ${what}`, timeoutMs, async () => {
    const pod = await readPod(name);
    return ok(pod) ? pod : undefined;
  });
}

/** core/v1 events about the pod (the kubelet's), oldest first. */
export async function coreEvents(name: string): Promise<CoreV1Event[]> {
  const list = await clients().core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.name=${name}` });
  return list.items.sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
}

/** events.k8s.io/v1 events about the pod (the scheduler's). */
export async function eventsV1(name: string): Promise<EventsV1Event[]> {
  const list = await clients().events.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `regarding.name=${name}` });
  return list.items;
}

function ignoreConflict(error: unknown): void {
  if ((error as { code?: number }).code !== 409) throw error;
}

/** A RuntimeClass whose handler containerd does not have: sandboxes for it fail. */
export async function ensureRuntimeClass(name: string, handler: string): Promise<void> {
  const { kc } = clients();
  const { NodeV1Api } = await import('@kubernetes/client-node');
  await kc
    .makeApiClient(NodeV1Api)
    .createRuntimeClass({ body: { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name }, handler } })
    .catch(ignoreConflict);
}

export async function ensureNamespace(name: string, labels: Record<string, string> = {}): Promise<string> {
  await clients()
    .core.createNamespace({ body: { metadata: { name, labels } } })
    .catch(ignoreConflict);
  return name;
}

/**
 * Writes a kubeconfig for a ServiceAccount of the default namespace with a
 * short-lived token (TokenRequest), for tests that need a user with exactly
 * the rights they grant it (none, unless bound).
 */
export async function serviceAccountKubeconfig(file: string, serviceAccount: string): Promise<string> {
  const { kc, core } = clients();
  await core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: serviceAccount } } }).catch(ignoreConflict);
  const request = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace: NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the test kubeconfig has no current cluster');
  const { writeFileSync } = await import('node:fs');
  const ca = cluster.caData ? `certificate-authority-data: ${cluster.caData}` : `certificate-authority: ${cluster.caFile}`;
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: c, cluster: { server: "${cluster.server}", ${ca} } }]`,
      `users: [{ name: ${serviceAccount}, user: { token: "${request.status?.token}" } }]`,
      `contexts: [{ name: ${serviceAccount}, context: { cluster: c, user: ${serviceAccount}, namespace: ${NAMESPACE} } }]`,
      `current-context: ${serviceAccount}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (bin/podtrace.js) in cwd, without colour; never rejects. */
export function runPodtrace(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const bin = `${REPO_DIR}/bin/podtrace.js`;
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 256 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * After an API server restart the scheduler's watches can back off for a
 * minute while the new server still denies them: wait until a new pod is
 * scheduled and Ready again, so the tests that follow start on a working cluster.
 */
/** How long the scheduler and a first pod may take to be back after a restart; hooks that wait for it need more. */
export const AFTER_RESTART_MS = 240_000;

export async function waitForSchedulerAfterRestart(): Promise<void> {
  const probe = uniqueName('after-restart');
  try {
    await createPod(simplePod(probe, 'nginx'));
    await waitForPod(probe, 'scheduled and Ready after a restart', AFTER_RESTART_MS, (p) => condition(p, 'Ready') === 'True');
  } finally {
    await deletePod(probe);
  }
}

export interface RunningPodtrace {
  child: import('node:child_process').ChildProcess;
  /** Resolves when the process ends; `signal` is set when it died of one it did not handle. */
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
  /** stderr so far. */
  stderr(): string;
}

/** Starts the built CLI without waiting for it, so the test can signal it. */
export function startPodtrace(args: string[], cwd: string, env: Record<string, string> = {}): RunningPodtrace {
  const bin = `${REPO_DIR}/bin/podtrace.js`;
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
  });
  return { child, done, stderr: () => stderr };
}

/** Keeps a run's recording under test-artifacts/recordings as `<outcome-class>-<label>.ndjson`, a fixture candidate. */
export function keepRecording(file: string, trace: Trace, label: string): void {
  if (!existsSync(file)) return;
  const artifacts = path.join(REPO_DIR, 'test-artifacts', 'recordings');
  mkdirSync(artifacts, { recursive: true });
  copyFileSync(file, path.join(artifacts, `${trace.outcome.class}-${label}.ndjson`));
}

type RbacManifest = { kind: string; metadata: { name: string }; subjects?: { name: string }[]; roleRef?: { name: string } };

/** deploy/rbac.yaml (and nothing else) under another name, for a ServiceAccount of that name. */
export async function applyRbacAs(serviceAccount: string): Promise<void> {
  const rbac = clients().kc.makeApiClient(RbacAuthorizationV1Api);
  const ignore409 = (e: unknown) => {
    if ((e as { code?: number }).code !== 409) throw e;
  };
  const manifests = parseAllDocuments(readFileSync(path.join(REPO_DIR, 'deploy', 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as RbacManifest);
  for (const m of manifests) {
    m.metadata.name = serviceAccount;
    if (m.roleRef) m.roleRef.name = serviceAccount;
    for (const s of m.subjects ?? []) s.name = serviceAccount;
    if (m.kind === 'Role') await rbac.createNamespacedRole({ namespace: NAMESPACE, body: m as V1Role }).catch(ignore409);
    if (m.kind === 'RoleBinding') await rbac.createNamespacedRoleBinding({ namespace: NAMESPACE, body: m as never }).catch(ignore409);
    if (m.kind === 'ClusterRole') await rbac.createClusterRole({ body: m as V1ClusterRole }).catch(ignore409);
    if (m.kind === 'ClusterRoleBinding') await rbac.createClusterRoleBinding({ body: m as never }).catch(ignore409);
  }
}

/** Removes what applyRbacAs made, and the ServiceAccount of that name. */
export async function deleteRbacAs(serviceAccount: string): Promise<void> {
  const rbac = clients().kc.makeApiClient(RbacAuthorizationV1Api);
  const quiet = () => undefined;
  await rbac.deleteNamespacedRole({ name: serviceAccount, namespace: NAMESPACE }).catch(quiet);
  await rbac.deleteNamespacedRoleBinding({ name: serviceAccount, namespace: NAMESPACE }).catch(quiet);
  await rbac.deleteClusterRole({ name: serviceAccount }).catch(quiet);
  await rbac.deleteClusterRoleBinding({ name: serviceAccount }).catch(quiet);
  await clients().core.deleteNamespacedServiceAccount({ name: serviceAccount, namespace: NAMESPACE }).catch(quiet);
}

/** Builds podtrace's own image from the current bundle and pushes it to the local registry; its reference. */
export async function pushPodtraceImage(): Promise<string> {
  if (!inject('clusterHooks')) throw new Error(`this test needs the local cluster's registry, and the tests run on the ${inject('clusterProvider')} cluster`);
  const { stdout } = await run('bash', [path.join(REPO_DIR, 'hack', 'build-images.sh'), 'push-podtrace', '127.0.0.1:5000'], { timeout: 300_000 });
  return stdout.trim().split('\n').at(-1)!;
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
