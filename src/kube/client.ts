/**
 * The production KubeFactory, loaded on demand (it brings @kubernetes/client-node):
 * reads kubeconfig (no network) and returns the cluster API bound to it.
 */
import { HttpClusterApi } from './cluster-api.js';
import { loadKubeconfig } from './kubeconfig.js';
import { clientNodeTransport } from './transport.js';
import type { ClusterApi, KubeClientRequest } from './types.js';

export async function createKubeClient(request: KubeClientRequest): Promise<ClusterApi> {
  const loaded = loadKubeconfig(request);
  return new HttpClusterApi(clientNodeTransport(loaded), loaded.target);
}
