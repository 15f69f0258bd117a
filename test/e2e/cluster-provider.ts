/**
 * Picks the cluster the end-to-end tests run against, in this order, and says
 * which: a kubeconfig named by PODTRACE_E2E_KUBECONFIG (a contributor's kind
 * or minikube cluster), a K3s container through testcontainers when a Docker
 * engine answers and can provide the image, else the local cluster that
 * hack/cluster.sh runs on this host (Linux, root; what CI uses). A provider
 * that cannot be had is named with its reason, one line each; the tests are
 * never skipped for want of a cluster: when none can be had, setup fails.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLUSTER_SCRIPT = join(REPO_DIR, 'hack', 'cluster.sh');

export type ProviderName = 'kubeconfig' | 'k3s' | 'local';

export interface ProvidedCluster {
  provider: ProviderName;
  kubeconfig: string;
  /** Only the local cluster has the fault-injection and image hooks. */
  hooks: boolean;
  /** The Jaeger query API the cluster's components export to: the local cluster's, or PODTRACE_E2E_SPANS. */
  spans?: string;
  stop?: () => Promise<void>;
}

export type Attempt = { cluster: ProvidedCluster } | { unavailable: string };

export async function fromEnv(): Promise<Attempt> {
  const path = process.env.PODTRACE_E2E_KUBECONFIG;
  if (!path) return { unavailable: 'PODTRACE_E2E_KUBECONFIG is not set' };
  if (!existsSync(path)) return { unavailable: `PODTRACE_E2E_KUBECONFIG names ${path}, which does not exist` };
  const spans = process.env.PODTRACE_E2E_SPANS;
  return { cluster: { provider: 'kubeconfig', kubeconfig: path, hooks: false, ...(spans ? { spans } : {}) } };
}

function dockerSocket(): string | undefined {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  if (host) return undefined;
  return '/var/run/docker.sock';
}

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path: socketPath });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

export async function fromK3s(): Promise<Attempt> {
  const socket = dockerSocket();
  if (!socket || !(await canConnect(socket))) {
    return { unavailable: `no Docker engine answers on ${process.env.DOCKER_HOST ?? socket}` };
  }
  // a devDependency (npm ci installs it); loaded only when a Docker engine answers
  const moduleName = '@testcontainers/k3s';
  let k3s: { K3sContainer: new (image: string) => { start(): Promise<{ getKubeConfig(): string; stop(): Promise<unknown> }> } };
  try {
    k3s = await import(moduleName);
  } catch {
    return { unavailable: `a Docker engine answers, but ${moduleName} is not installed (run npm ci: it is a devDependency)` };
  }
  try {
    const container = await new k3s.K3sContainer(process.env.PODTRACE_K3S_IMAGE ?? 'rancher/k3s:v1.34.1-k3s1').start();
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'podtrace-k3s-')), 'kubeconfig');
    writeFileSync(file, container.getKubeConfig(), { mode: 0o600 });
    return { cluster: { provider: 'k3s', kubeconfig: file, hooks: false, stop: async () => void (await container.stop()) } };
  } catch (error) {
    return { unavailable: `the K3s container did not start: ${(error as Error).message.split('\n')[0]}` };
  }
}

async function fromLocalCluster(): Promise<Attempt> {
  if (process.platform !== 'linux') return { unavailable: 'the local cluster runs on Linux only' };
  if (process.getuid?.() !== 0) return { unavailable: 'the local cluster needs root (run the tests with sudo)' };
  // `up` is idempotent: it returns at once when the cluster is already up.
  const { stdout } = await run('bash', [CLUSTER_SCRIPT, 'up'], { maxBuffer: 16 << 20, timeout: 3_600_000 });
  const kubeconfig = stdout.trim().split('\n').pop() ?? '';
  if (!existsSync(kubeconfig)) return { unavailable: `hack/cluster.sh up printed no kubeconfig path (got "${kubeconfig}")` };
  // the local cluster's API server and kubelet export to its Jaeger (hack/cluster.sh)
  return { cluster: { provider: 'local', kubeconfig, hooks: true, spans: 'http://127.0.0.1:16686' } };
}

/** The providers, in the order they are tried. */
export const PROVIDERS: ReadonlyArray<readonly [string, () => Promise<Attempt>]> = [
  ['kubeconfig from PODTRACE_E2E_KUBECONFIG', fromEnv],
  ['K3s through testcontainers', fromK3s],
  ['local cluster (hack/cluster.sh)', fromLocalCluster],
];

export async function provideCluster(log: (line: string) => void, providers = PROVIDERS): Promise<ProvidedCluster> {
  const reasons: string[] = [];
  for (const [name, attempt] of providers) {
    const result = await attempt();
    if ('cluster' in result) {
      log(`e2e cluster: ${name} (kubeconfig ${result.cluster.kubeconfig})`);
      return result.cluster;
    }
    log(`e2e cluster: not ${name}: ${result.unavailable}`);
    reasons.push(`${name}: ${result.unavailable}`);
  }
  throw new Error(`no cluster for the end-to-end tests; ${reasons.join('; ')}`);
}
