/**
 * `podtrace inspect POD`: the best trace possible for a pod podtrace did not
 * create, from one read of what the API server still holds: the pod (its
 * timestamps and conditions), its events (kept 1 h by default) and its node.
 * Nothing is created, watched or deleted. Each milestone keeps the source and
 * precision it was timed from; what can no longer be known is listed in
 * run.incomplete.
 */
import path from 'node:path';
import { PodNotFoundError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { connectionFailure } from '../kube/network-errors.js';
import { KubeApiError, type KubeClient } from '../kube/types.js';
import { RECORDING_KIND, RECORDING_VERSION, type RecordingHeader } from '../trace/observation.js';
import { reconstruct } from '../trace/reconstruct.js';
import { serializeRecording } from '../trace/recording.js';
import { ObservationLog } from '../watchers/observation-log.js';
import { writeFileAtomic } from './atomic-write.js';
import { kubeconfigLoaded, openKubeClient, type CommandContext } from './context.js';
import { printTrace, saveTrace } from './output.js';
import { parseOutputFormat, validateNamespace, validatePodName } from './parse/flags.js';
import { TOOL_VERSION } from './version.js';

export interface InspectFlags {
  pod: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  output: string;
  out?: string;
  record?: string;
}

interface Item {
  metadata?: { uid?: string; name?: string };
  involvedObject?: { uid?: string };
  regarding?: { uid?: string };
  spec?: { nodeName?: string };
}

export async function run(flags: InspectFlags, ctx: CommandContext): Promise<number> {
  const format = parseOutputFormat(flags.output);
  validatePodName(flags.pod, 'POD');
  if (flags.namespace !== undefined) validateNamespace(flags.namespace);
  const kube = await openKubeClient(flags, ctx);
  let header: RecordingHeader;
  let log: ObservationLog;
  try {
    ({ header, log } = await read(flags.pod, kube, ctx));
  } finally {
    await kube.close().catch(() => {});
  }
  const trace = reconstruct(header, log.observations);
  printTrace(trace, format, ctx.stdout, ctx.env);
  const cwd = ctx.cwd ?? process.cwd();
  if (flags.out !== undefined) {
    await saveTrace(trace, path.resolve(cwd, flags.out));
    ctx.stderr.write(`trace saved to ${flags.out}\n`);
  }
  if (flags.record !== undefined) {
    await writeFileAtomic(path.resolve(cwd, flags.record), serializeRecording(header, log.observations));
    ctx.stderr.write(`recording saved to ${flags.record}\n`);
  }
  // The pod's state is the answer: Ready (or on its way) is 0, a failure its own code.
  return trace.outcome.exitCode ?? EXIT.ok;
}

async function read(podName: string, kube: KubeClient, ctx: CommandContext): Promise<{ header: RecordingHeader; log: ObservationLog }> {
  const target = kube.target;
  const namespace = target.namespace;
  const log = new ObservationLog(ctx.clock);
  const header: RecordingHeader = {
    kind: RECORDING_KIND,
    version: RECORDING_VERSION,
    toolVersion: TOOL_VERSION,
    startedAt: ctx.clock.now(),
    namespace,
    podName,
    options: { keep: true, timeoutMs: 0, inspect: true },
  };
  log.client('kubeconfig-loaded', kubeconfigLoaded(target));
  const fail = (error: unknown): never => {
    throw connectionFailure(error, target.server) ?? error;
  };
  const credentials = await kube.resolveCredentials().catch(fail);
  log.client('credentials-resolved', { ...credentials });
  const ns = encodeURIComponent(namespace);
  const [version, pod] = await Promise.all([
    kube.serverVersion().catch(fail),
    kube.request('GET', `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(podName)}`).catch((error: unknown) => {
      if (error instanceof KubeApiError && error.status === 404) {
        throw new PodNotFoundError(`pod "${podName}" not found in namespace "${namespace}" on ${target.server}: check the name (kubectl get pods -n ${namespace})`);
      }
      return fail(error);
    }),
  ]);
  log.client('server-version', { ...version });
  const object = pod.body as Item;
  const uid = object.metadata?.uid;
  log.object('pod', 'LIST', pod.body);

  const list = async (apiPath: string, fieldSelector: string): Promise<Item[]> => {
    const response = await kube.request('GET', apiPath, { query: { fieldSelector } }).catch(fail);
    const items = (response.body as { items?: Item[] }).items;
    return Array.isArray(items) ? items : [];
  };
  const nodeName = object.spec?.nodeName;
  const [core, v1, node, nodeEvents] = await Promise.all([
    list(`/api/v1/namespaces/${ns}/events`, `involvedObject.name=${podName}`),
    list(`/apis/events.k8s.io/v1/namespaces/${ns}/events`, `regarding.name=${podName}`),
    nodeName ? kube.request('GET', `/api/v1/nodes/${encodeURIComponent(nodeName)}`).then((r) => r.body, () => undefined) : undefined,
    nodeName ? list('/api/v1/events', `involvedObject.kind=Node,involvedObject.name=${nodeName}`).catch(() => []) : [],
  ]);
  // Events of an earlier pod of the same name are not this pod's.
  for (const e of core) if (e.involvedObject?.uid === undefined || e.involvedObject.uid === uid) log.object('event', 'LIST', e);
  for (const e of v1) if (e.regarding?.uid === undefined || e.regarding.uid === uid) log.object('eventsv1', 'LIST', e);
  for (const e of nodeEvents) log.object('event', 'LIST', e);
  if (node !== undefined) log.client('node-info', { node });
  log.client('done', { reason: 'inspected' });
  return { header, log };
}
