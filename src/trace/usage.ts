/**
 * --observe: a usage sample of the pod's containers, derived from what the
 * cluster answered, as it was recorded: the pod's entry of the kubelet's
 * stats summary (numbers), or a metrics.k8s.io PodMetrics (quantities such as
 * "12345n", "5120Ki"). Recordings made before raw readings were kept carry
 * the derived `containers` instead; they still replay.
 */
import { isRecord, parseQuantity } from './kube-objects.js';

export interface ContainerUsage {
  name?: string;
  cpuMillicores?: number;
  memoryBytes?: number;
}

/** The containers of one pod's entry in a /stats/summary answer. */
export function usageFromStatsPod(pod: unknown): ContainerUsage[] {
  type Container = { name?: string; cpu?: { usageNanoCores?: number }; memory?: { workingSetBytes?: number } };
  const containers = (pod as { containers?: Container[] } | null | undefined)?.containers ?? [];
  return containers.map((c) => ({
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

/** The containers of a `usage-sample` observation, from its raw reading (or its older derived form). */
export function sampledContainers(data: Record<string, unknown>): unknown[] {
  if ('pod' in data) return usageFromStatsPod(data['pod']);
  if (isRecord(data['podMetrics'])) return usageFromMetricsApi(data['podMetrics']);
  return Array.isArray(data['containers']) ? data['containers'] : [];
}
