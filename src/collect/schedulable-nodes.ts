/**
 * `create --per-node`: the nodes a pod can be started on, read once before the runs: Ready, not
 * cordoned, and without a NoSchedule or NoExecute taint the pod does not tolerate.
 */
import { NodeNotFoundError } from '../errors.js';
import { isRecord } from '../kube/errors.js';
import type { ClusterApi } from '../kube/types.js';

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return t.key === undefined || t.key === '' || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** Why a node cannot take the pod, or undefined when it can. */
export function unschedulableBecause(node: unknown, tolerations: readonly Toleration[]): string | undefined {
  if (!isRecord(node)) return 'not a node';
  const spec = isRecord(node['spec']) ? node['spec'] : {};
  const status = isRecord(node['status']) ? node['status'] : {};
  if (spec['unschedulable'] === true) return 'cordoned';
  const conditions = Array.isArray(status['conditions']) ? status['conditions'].filter(isRecord) : [];
  if (!conditions.some((c) => c['type'] === 'Ready' && c['status'] === 'True')) return 'not Ready';
  const taints = (Array.isArray(spec['taints']) ? spec['taints'].filter(isRecord) : []) as unknown as Taint[];
  const blocking = taints.find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tolerations, t));
  return blocking ? `taint ${blocking.key}${blocking.value ? `=${blocking.value}` : ''}:${blocking.effect}` : undefined;
}

/** The names of the nodes the pod can start on, sorted; none is a NodeNotFoundError that lists why. */
export async function schedulableNodes(api: Pick<ClusterApi, 'list' | 'target'>, tolerations: readonly Toleration[]): Promise<string[]> {
  const { items } = await api.list({ resource: 'nodes' }, {});
  const names: string[] = [];
  const refused: string[] = [];
  for (const node of items) {
    const name = isRecord(node) && isRecord(node['metadata']) ? String(node['metadata']['name']) : '?';
    const why = unschedulableBecause(node, tolerations);
    if (why === undefined) names.push(name);
    else refused.push(`${name} (${why})`);
  }
  if (names.length === 0) {
    throw new NodeNotFoundError(
      `--per-node: no node on ${api.target.server} can take the pod${refused.length > 0 ? `: ${refused.join(', ')}` : ' (the cluster has no nodes)'}; check kubectl get nodes`,
    );
  }
  return names.sort();
}
