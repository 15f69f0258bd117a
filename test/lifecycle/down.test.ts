/**
 * Runs last, on the local cluster only: `cluster.sh down` leaves no process,
 * mount, network device or cgroup of the cluster behind.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLUSTER_SCRIPT } from '../e2e/cluster-provider.js';
import { startOtlpCollector } from './otlp-collector.js';

const run = promisify(execFile);
const STATE = process.env.PODTRACE_STATE ?? '/var/lib/podtrace-cluster';
const CACHE = process.env.PODTRACE_CACHE ?? '/var/cache/podtrace';

/** Every process whose binary is one of the cluster's, or whose command line names its state. */
function clusterProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const exe = readlinkSync(`/proc/${pid}/exe`);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (exe.startsWith(`${CACHE}/bin/`) || cmdline.includes(`${STATE}/`) || /\bdocker-registry serve\b/.test(cmdline)) {
        found.push(`${pid} ${cmdline.trim()}`);
      }
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Unix socket paths the given processes listen on. */
function listeningSockets(pids: string[]): string[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode) inodes.add(inode);
    }
  }
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 8 && inodes.has(cols[6]!))
    .map((cols) => cols[7]!);
}

function core(): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(`${STATE}/kubeconfig`);
  return kc.makeApiClient(CoreV1Api);
}

async function waitReady(name: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    const pod = await core().readNamespacedPod({ name, namespace: 'default' });
    if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`pod ${name} did not become Ready within 60 s`);
}

/** nodeName binds the pod without the scheduler, which backs off for a while after an API server restart. */
async function runningPod(name: string): Promise<void> {
  await core().createNamespacedPod({
    namespace: 'default',
    body: { metadata: { name }, spec: { nodeName: 'podtrace-node', containers: [{ name: 'main', image: 'nginx' }] } },
  });
  await waitReady(name);
}

describe('cluster tracing', () => {
  it('sends the API server’s and the kubelet’s spans to the OTLP endpoint given to up', async () => {
    const collector = await startOtlpCollector();
    const traced = `traced-${process.pid}`;
    try {
      await run('bash', [CLUSTER_SCRIPT, 'up', '--otlp-endpoint', collector.endpoint], { timeout: 3_600_000 });
      await run('bash', [CLUSTER_SCRIPT, 'restart', 'apiserver'], { timeout: 300_000 });
      await run('bash', [CLUSTER_SCRIPT, 'restart', 'kubelet'], { timeout: 300_000 });
      await runningPod(traced);
      // audit-id is an attribute of the API server's request spans; the kubelet's spans
      // include its CRI calls, RunPodSandbox among them for the new pod
      await collector.waitFor(['audit-id', 'runtime.v1.RuntimeService', 'RunPodSandbox'], 60_000);
    } finally {
      await core().deleteNamespacedPod({ name: traced, namespace: 'default', gracePeriodSeconds: 0 }).catch(() => undefined);
      await run('bash', [CLUSTER_SCRIPT, 'up', '--otlp-endpoint', 'none'], { timeout: 600_000 });
      await run('bash', [CLUSTER_SCRIPT, 'restart', 'apiserver'], { timeout: 300_000 });
      await run('bash', [CLUSTER_SCRIPT, 'restart', 'kubelet'], { timeout: 300_000 });
      await collector.close();
    }
    expect(readdirSync(`${STATE}/etc`)).not.toContain('apiserver-tracing.yaml');
  });
});

describe('cluster up', () => {
  it('recovers when every component was killed with SIGKILL', async () => {
    await run('bash', [CLUSTER_SCRIPT, 'up'], { timeout: 3_600_000 });
    const name = `killed-${process.pid}`;
    await runningPod(name);
    for (const file of readdirSync(`${STATE}/run`).filter((f) => f.endsWith('.pid'))) {
      process.kill(Number(readFileSync(`${STATE}/run/${file}`, 'utf8').split(' ')[0]), 'SIGKILL');
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await run('bash', [CLUSTER_SCRIPT, 'status']).catch((error) => error as { stdout: string })).stdout).toMatch(/kubelet\s+stopped/);
    await run('bash', [CLUSTER_SCRIPT, 'up'], { timeout: 600_000 });
    // the pod (kept in etcd) gets a new sandbox on the restarted runtime
    await waitReady(name);
  });
});

describe('cluster down', () => {
  it('stops every process, unmounts everything and removes its devices', async () => {
    await run('bash', [CLUSTER_SCRIPT, 'up'], { timeout: 3_600_000 });
    // a running pod gives down real work: shims, netns, overlay mounts, a veth
    await runningPod(`lifecycle-${process.pid}`);
    const processes = clusterProcesses();
    const shimPids = processes.filter((p) => p.includes('containerd-shim')).map((p) => p.split(' ')[0]!);
    expect(shimPids.length).toBeGreaterThan(0);
    const shimSockets = listeningSockets(shimPids).filter((path) => path.startsWith('/run/containerd/'));
    expect(shimSockets.length).toBeGreaterThan(0);

    await run('bash', [CLUSTER_SCRIPT, 'down'], { timeout: 180_000 });

    expect(clusterProcesses()).toEqual([]);
    expect(shimSockets.filter((path) => existsSync(path))).toEqual([]);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(`${STATE}/`));
    expect(mounts).toEqual([]);
    const links = (await run('ip', ['-o', 'link', 'show'])).stdout;
    expect(links).not.toMatch(/podtrace0|podtrace-node/);
    const cgroups = readdirSync('/sys/fs/cgroup').filter((h) => {
      try {
        return readdirSync(`/sys/fs/cgroup/${h}`).includes('podtrace');
      } catch {
        return false;
      }
    });
    expect(cgroups).toEqual([]);
    expect(readdirSync(STATE)).toEqual(['logs']);
  });
});
