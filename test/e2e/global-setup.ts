import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { provideCluster, type ProvidedCluster } from './cluster-provider.js';

let cluster: ProvidedCluster | undefined;

const MANAGED = 'app.kubernetes.io/managed-by=podtrace';

/**
 * Pods and Services of podtrace's that a run killed before its cleanup left on the cluster (seen
 * in CI: a cluster brought back up on the state of a killed run). Every test checks that it leaves
 * nothing behind, so they would all fail on what they did not create: they are deleted first, and
 * named, and the tests wait until they are gone.
 */
export async function clearLeftovers(kubeconfig: string, log: (line: string) => void): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const pods = (await core.listPodForAllNamespaces({ labelSelector: MANAGED })).items;
  const services = (await core.listServiceForAllNamespaces({ labelSelector: MANAGED })).items;
  if (pods.length + services.length === 0) return;
  const named = [...pods.map((p) => `pod ${p.metadata?.namespace}/${p.metadata?.name}`), ...services.map((s) => `service ${s.metadata?.namespace}/${s.metadata?.name}`)];
  log(`e2e cluster: deleting what an earlier run left: ${named.join(', ')}`);
  const gone = (error: unknown) => {
    if ((error as { code?: number }).code !== 404) throw error;
  };
  await Promise.all([
    ...pods.map((p) => core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: p.metadata!.namespace!, gracePeriodSeconds: 0 }).catch(gone)),
    ...services.map((s) => core.deleteNamespacedService({ name: s.metadata!.name!, namespace: s.metadata!.namespace! }).catch(gone)),
  ]);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const left = (await core.listPodForAllNamespaces({ labelSelector: MANAGED })).items.length;
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`${left} pod(s) an earlier run left were not gone after 120 s (kubectl get pods -A -l ${MANAGED})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function setup(project: TestProject): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  cluster = await provideCluster(log);
  await clearLeftovers(cluster.kubeconfig, log);
  project.provide('kubeconfig', cluster.kubeconfig);
  project.provide('clusterProvider', cluster.provider);
  project.provide('clusterHooks', cluster.hooks);
  project.provide('spans', cluster.spans ?? '');
}

export async function teardown(): Promise<void> {
  await cluster?.stop?.();
}

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    clusterProvider: string;
    clusterHooks: boolean;
    /** The cluster's Jaeger query API ('' when it has none). */
    spans: string;
  }
}
