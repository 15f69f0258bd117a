/**
 * `create --per-node`: the nodes a pod can be started on, read once before the runs: Ready, not
 * cordoned, and without a NoSchedule or NoExecute taint the pod does not tolerate.
 */
import { NodeNotFoundError } from '../errors.js';
import { describeKubeError, isRecord } from '../kube/errors.js';
import type { ClusterApi } from '../kube/types.js';
import type { ObservationLog } from './observation-log.js';

import { describeTaint, tolerates, type Taint, type Toleration } from '../trace/kube-objects.js';

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
  return blocking ? `taint ${describeTaint(blocking)}` : undefined;
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

/**
 * What a pod the scheduler refused is up against: every node's taints, cordon and allocatable
 * resources, read once when the run stops on `unschedulable` (the scheduler's message counts
 * nodes per reason but no longer names the taint). Recorded as `nodes-at-failure`; never throws.
 */
export async function recordNodesAtFailure(api: Pick<ClusterApi, 'list'>, log: ObservationLog): Promise<void> {
  try {
    const { items } = await api.list({ resource: 'nodes' }, {});
    const nodes = items.filter(isRecord).map((node) => {
      const spec = isRecord(node['spec']) ? node['spec'] : {};
      const status = isRecord(node['status']) ? node['status'] : {};
      return {
        name: isRecord(node['metadata']) ? String(node['metadata']['name']) : '?',
        ...(Array.isArray(spec['taints']) ? { taints: spec['taints'] } : {}),
        ...(spec['unschedulable'] === true ? { unschedulable: true } : {}),
        ...(isRecord(status['allocatable']) ? { allocatable: status['allocatable'] } : {}),
      };
    });
    log.client('nodes-at-failure', { nodes });
  } catch (error) {
    log.client('nodes-at-failure', { error: describeKubeError(error) });
  }
}
