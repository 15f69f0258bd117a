/**
 * The end-to-end tests' choice of cluster: which provider wins, in which
 * order they are tried, and that each one passed over is named with its
 * reason on one line; with none available, setup fails (never a skip).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROVIDERS, provideCluster, type Attempt } from '../../e2e/cluster-provider.js';

const saved = { kubeconfig: process.env.PODTRACE_E2E_KUBECONFIG, docker: process.env.DOCKER_HOST };
afterEach(() => {
  for (const [key, value] of [['PODTRACE_E2E_KUBECONFIG', saved.kubeconfig], ['DOCKER_HOST', saved.docker]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** The real first two providers, and a stand-in for the local cluster (which would start one). */
function providers(local: () => Promise<Attempt>, calls: string[]) {
  return PROVIDERS.map(([name, attempt], i) => [name, async () => (calls.push(name), i === 2 ? local() : attempt())] as const);
}

describe('which cluster the end-to-end tests use', () => {
  it('takes the kubeconfig named by PODTRACE_E2E_KUBECONFIG first, and tries nothing else', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'podtrace-provider-')), 'kubeconfig');
    writeFileSync(file, 'apiVersion: v1\nkind: Config\n');
    process.env.PODTRACE_E2E_KUBECONFIG = file;
    const lines: string[] = [];
    const calls: string[] = [];
    const cluster = await provideCluster((l) => lines.push(l), providers(async () => ({ unavailable: 'not asked' }), calls));
    expect(cluster).toMatchObject({ provider: 'kubeconfig', kubeconfig: file, hooks: false });
    expect(calls).toEqual(['kubeconfig from PODTRACE_E2E_KUBECONFIG']);
    expect(lines).toEqual([`e2e cluster: kubeconfig from PODTRACE_E2E_KUBECONFIG (kubeconfig ${file})`]);
  });

  it('names each provider passed over with its reason, in order, then takes the local cluster', async () => {
    delete process.env.PODTRACE_E2E_KUBECONFIG;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    const lines: string[] = [];
    const calls: string[] = [];
    const local = { provider: 'local' as const, kubeconfig: '/var/lib/podtrace-cluster/kubeconfig', hooks: true };
    const cluster = await provideCluster((l) => lines.push(l), providers(async () => ({ cluster: local }), calls));
    expect(cluster).toBe(local);
    expect(calls).toEqual(PROVIDERS.map(([name]) => name));
    expect(lines).toEqual([
      'e2e cluster: not kubeconfig from PODTRACE_E2E_KUBECONFIG: PODTRACE_E2E_KUBECONFIG is not set',
      'e2e cluster: not K3s through testcontainers: no Docker engine answers on unix:///nonexistent/docker.sock',
      'e2e cluster: local cluster (hack/cluster.sh) (kubeconfig /var/lib/podtrace-cluster/kubeconfig)',
    ]);
  });

  it('fails setup, saying why for each, when no cluster can be had', async () => {
    process.env.PODTRACE_E2E_KUBECONFIG = '/nonexistent/kubeconfig';
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    const lines: string[] = [];
    const error = await provideCluster((l) => lines.push(l), providers(async () => ({ unavailable: 'the local cluster needs root' }), [])).catch(
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      'no cluster for the end-to-end tests; kubeconfig from PODTRACE_E2E_KUBECONFIG: PODTRACE_E2E_KUBECONFIG names /nonexistent/kubeconfig, which does not exist; ' +
        'K3s through testcontainers: no Docker engine answers on unix:///nonexistent/docker.sock; local cluster (hack/cluster.sh): the local cluster needs root',
    );
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).not.toContain('\n');
  });
});
