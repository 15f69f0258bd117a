/**
 * `podtrace inspect POD`: one read of what the API server still holds about
 * a pod podtrace did not create: the pod (its timestamps and conditions), its
 * events (kept 1 h by default) and its node. Nothing is created, watched or
 * deleted.
 */
import { PodNotFoundError } from '../errors.js';
import { isKubeError } from '../kube/errors.js';
import type { ClusterApi } from '../kube/types.js';
import type { Observation, RecordingHeader } from '../trace/observation.js';
import { ObservationLog, type Clock } from './observation-log.js';
import { fetchNodeInfo, recordingHeader, recordTarget } from './run-header.js';
import { readPodSpans, spansReadNote } from './spans.js';

interface Item {
  metadata?: { uid?: string };
  involvedObject?: { uid?: string };
  regarding?: { uid?: string };
  spec?: { nodeName?: string };
}

export async function collectInspect(
  api: ClusterApi,
  podName: string,
  io: { clock: Clock; toolVersion: string; note: (line: string) => void },
  /** `--spans URL`: the components' spans of the pod, from this Jaeger query API. */
  spans?: string,
): Promise<{ header: RecordingHeader; observations: readonly Observation[] }> {
  const target = api.target;
  const namespace = target.namespace;
  const log = new ObservationLog(io.clock);
  const header = recordingHeader({ toolVersion: io.toolVersion, startedAt: io.clock.now(), namespace, podName, options: { keep: true, timeoutMs: 0, inspect: true } });
  recordTarget(log, target);
  const credentials = await api.resolveCredentials();
  log.client('credentials-resolved', { ...credentials });
  const [version, pod] = await Promise.all([
    api.serverVersion(),
    api.getPod(namespace, podName).catch((error: unknown) => {
      if (isKubeError(error, 'not-found')) {
        throw new PodNotFoundError(`pod "${podName}" not found in namespace "${namespace}" on ${target.server}: check the name (kubectl get pods -n ${namespace})`);
      }
      throw error;
    }),
  ]);
  log.client('server-version', { ...version });
  const object = pod as Item;
  const uid = object.metadata?.uid;
  log.object('pod', 'LIST', pod);

  const nodeName = object.spec?.nodeName;
  const [core, v1, nodeEvents, nodeInfo] = await Promise.all([
    api.list({ resource: 'events', namespace }, { fieldSelector: `involvedObject.name=${podName}` }),
    api.list({ resource: 'eventsv1', namespace }, { fieldSelector: `regarding.name=${podName}` }),
    nodeName ? api.list({ resource: 'events' }, { fieldSelector: `involvedObject.kind=Node,involvedObject.name=${nodeName}` }).catch(() => undefined) : undefined,
    nodeName ? fetchNodeInfo(api, nodeName) : undefined,
  ]);
  // Events of an earlier pod of the same name are not this pod's.
  for (const e of core.items as Item[]) if (e.involvedObject?.uid === undefined || e.involvedObject.uid === uid) log.object('event', 'LIST', e);
  for (const e of v1.items as Item[]) if (e.regarding?.uid === undefined || e.regarding.uid === uid) log.object('eventsv1', 'LIST', e);
  for (const e of nodeEvents?.items ?? []) log.object('event', 'LIST', e);
  if (nodeInfo !== undefined) log.client('node-info', nodeInfo);
  if (spans !== undefined) {
    await readPodSpans(pod, { backend: spans }, log);
    const note = spansReadNote(log.observations, spans);
    if (note) io.note(note);
  }
  log.client('done', { reason: 'inspected' });
  return { header, observations: log.observations };
}
