/**
 * --observe: one usage sample of a pod's containers, read from either answer
 * the cluster may give: the kubelet's stats summary (all pods of the node, in
 * numbers) or metrics.k8s.io (one pod, in quantities such as "12345n", "5120Ki").
 */
import { parseQuantity } from '../trace/kube-objects.js';

export interface ContainerUsage {
  name?: string;
  cpuMillicores?: number;
  memoryBytes?: number;
}

/** The pod's containers in a /stats/summary answer (empty when the pod is not in it). */
export function usageFromStatsSummary(body: unknown, namespace: string, podName: string): ContainerUsage[] {
  type Container = { name?: string; cpu?: { usageNanoCores?: number }; memory?: { workingSetBytes?: number } };
  const pods = (body as { pods?: Array<{ podRef?: { name?: string; namespace?: string }; containers?: Container[] }> } | undefined)?.pods ?? [];
  const pod = pods.find((p) => p.podRef?.name === podName && p.podRef?.namespace === namespace);
  return (pod?.containers ?? []).map((c) => ({
    name: c.name,
    ...(typeof c.cpu?.usageNanoCores === 'number' ? { cpuMillicores: c.cpu.usageNanoCores / 1e6 } : {}),
    ...(typeof c.memory?.workingSetBytes === 'number' ? { memoryBytes: c.memory.workingSetBytes } : {}),
  }));
}

/** The containers of a metrics.k8s.io PodMetrics answer; CPU comes in cores (often nanocores, "n"). */
export function usageFromMetricsApi(body: unknown): ContainerUsage[] {
  const containers = (body as { containers?: Array<{ name?: string; usage?: { cpu?: string; memory?: string } }> } | undefined)?.containers ?? [];
  return containers.map((c) => {
    const cores = parseQuantity(c.usage?.cpu);
    const memoryBytes = parseQuantity(c.usage?.memory);
    return { name: c.name, ...(cores !== undefined ? { cpuMillicores: cores * 1000 } : {}), ...(memoryBytes !== undefined ? { memoryBytes } : {}) };
  });
}
