import type { TestProject } from 'vitest/node';
import { provideCluster, type ProvidedCluster } from './cluster-provider.js';

let cluster: ProvidedCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await provideCluster((line) => process.stderr.write(`${line}\n`));
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
