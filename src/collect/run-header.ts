/**
 * What every collector records the same way: the recording header, where the
 * run went (the kubeconfig-loaded observation, never credentials) and one
 * read of the pod's node.
 */
import { describeKubeError, KubeApiError } from '../kube/errors.js';
import type { ClusterApi, KubeTarget } from '../kube/types.js';
import { RECORDING_KIND, RECORDING_VERSION, type RecordingHeader } from '../trace/observation.js';
import type { ObservationLog } from './observation-log.js';

/** The version recorded in every header, as the trace reports it. */
export interface HeaderInput {
  toolVersion: string;
  startedAt: number;
  namespace: string;
  podName: string;
  trace?: RecordingHeader['trace'];
  options: RecordingHeader['options'];
}

export function recordingHeader(input: HeaderInput): RecordingHeader {
  const { trace, ...rest } = input;
  // the header's keys in one order, whatever the caller's: recordings compare line by line
  return { kind: RECORDING_KIND, version: RECORDING_VERSION, toolVersion: rest.toolVersion, startedAt: rest.startedAt, namespace: rest.namespace, podName: rest.podName, ...(trace ? { trace } : {}), options: rest.options };
}

/** The `kubeconfig-loaded` observation: where and as whom, never credentials. */
export function recordTarget(log: ObservationLog, target: KubeTarget): void {
  log.client('kubeconfig-loaded', {
    context: target.context,
    cluster: target.cluster,
    user: target.user,
    server: target.server,
    namespace: target.namespace,
    namespaceSource: target.namespaceSource,
    authMethod: target.authMethod,
    loadMs: target.loadMs,
  });
}

/**
 * One GET of the node, as the `node-info` observation records it: the node,
 * or why it could not be read (node access is often not granted to ordinary
 * users: the trace then says less about the node, and says why).
 */
export async function fetchNodeInfo(api: Pick<ClusterApi, 'getNode'>, nodeName: string): Promise<Record<string, unknown>> {
  try {
    return { node: await api.getNode(nodeName) };
  } catch (error) {
    return {
      name: nodeName,
      error: error instanceof KubeApiError ? error.message : describeKubeError(error),
      ...(error instanceof KubeApiError ? { status: error.status } : {}),
    };
  }
}

/** fetchNodeInfo, recorded when it answers (unless the run no longer wants it). */
export async function readNode(api: Pick<ClusterApi, 'getNode'>, log: ObservationLog, nodeName: string, stillWanted: () => boolean = () => true): Promise<void> {
  const info = await fetchNodeInfo(api, nodeName);
  if (stillWanted()) log.client('node-info', info);
}
