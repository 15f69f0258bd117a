/**
 * After Ready, before the pod is deleted: --observe (the watches keep
 * recording restarts and probe failures while resource usage is sampled) and
 * --logs N. Readings are recorded as the cluster gave them (the trace derives
 * the numbers), so a replay re-derives everything.
 */
import { AuthError, UnreachableError } from '../../errors.js';
import { describeKubeError, isKubeError, KubeApiError } from '../../kube/errors.js';
import { pause } from '../stop.js';
import { interrupted, type RunState } from './state.js';

type UsageSource = 'kubelet-stats' | 'metrics-api';

export async function observe(state: RunState): Promise<void> {
  const { log, request, stop } = state;
  const watchers = state.watchers!;
  const clock = log.clock;
  state.progress.step(`observing for ${Math.round(request.observeMs / 1000)}s after Ready`);
  log.client('observe-started', { durationMs: request.observeMs });
  const end = clock.now() + request.observeMs;
  const every = Math.min(5000, Math.max(1000, request.observeMs / 10));
  const endEarly = AbortSignal.any([stop.signal, watchers.goneSignal]);
  let source: UsageSource | undefined = 'kubelet-stats';
  const notYet: NotYet = {};
  while (!interrupted(state) && !watchers.podGone && clock.now() < end) {
    if (source !== undefined) source = await sampleUsage(state, source, watchers.nodeName, notYet);
    const wait = Math.min(every, end - clock.now());
    if (wait > 0) await pause(wait, endEarly);
  }
  // metrics.k8s.io never had the pod within the window: that is the answer
  if (notYet.error !== undefined && !notYet.answered) log.client('usage-sample', { error: noUsage(notYet.error) });
  log.client('observe-ended', {});
}

/** The pod's entry of a /stats/summary answer (null when the pod is not in it). */
export function podEntryOfSummary(summary: unknown, namespace: string, podName: string): unknown {
  const pods = (summary as { pods?: Array<{ podRef?: { name?: string; namespace?: string } }> } | undefined)?.pods ?? [];
  return pods.find((p) => p.podRef?.name === podName && p.podRef?.namespace === namespace) ?? null;
}

/** metrics.k8s.io's "not found" while metrics-server has not scraped the pod yet, and whether it ever answered. */
interface NotYet {
  error?: unknown;
  answered?: boolean;
}

function noUsage(error: unknown): string {
  return `no resource usage: neither the node's stats summary (nodes/proxy) nor metrics.k8s.io answered (${describeKubeError(error)})`;
}

/** One usage sample; the source to use next time (undefined: none works). */
async function sampleUsage(state: RunState, source: UsageSource, nodeName: string | undefined, notYet: NotYet): Promise<UsageSource | undefined> {
  const { log, api, namespace, podName } = state;
  if (source === 'kubelet-stats' && nodeName !== undefined) {
    try {
      const summary = await api.nodeStatsSummary(nodeName);
      log.client('usage-sample', { source: 'kubelet-stats', pod: podEntryOfSummary(summary, namespace, podName) });
      return 'kubelet-stats';
    } catch (error) {
      // No node proxy (RBAC nodes/proxy, a managed control plane): try the metrics API.
      if (!(error instanceof KubeApiError)) throw error;
    }
  }
  try {
    log.client('usage-sample', { source: 'metrics-api', podMetrics: await api.podMetrics(namespace, podName) });
    notYet.answered = true;
    return 'metrics-api';
  } catch (error) {
    if (error instanceof UnreachableError || error instanceof AuthError) throw error;
    // metrics-server has a pod only from its first scrape after the start (every --metric-resolution,
    // 15 s by default): not found is "not yet", asked again until the window ends
    if (isKubeError(error, 'not-found')) {
      notYet.error = error;
      return 'metrics-api';
    }
    log.client('usage-sample', { error: noUsage(error) });
    return undefined;
  }
}

/** --logs N: the first N lines of each container's log (current run), read before the pod is deleted. */
export async function readLogs(state: RunState, lines: number): Promise<void> {
  const { log, api, namespace, podName } = state;
  state.progress.step('reading the logs');
  const spec = state.request.manifest.spec as { initContainers?: Array<{ name: string }>; containers: Array<{ name: string }> };
  const names = [...(spec.initContainers ?? []), ...spec.containers].map((c) => c.name);
  for (const container of names) {
    try {
      const all = (await api.podLog(namespace, podName, container, 1 << 20)).split('\n');
      if (all.at(-1) === '') all.pop();
      log.client('logs', { container, lines: all.slice(0, lines), truncated: all.length > lines });
    } catch (error) {
      if (error instanceof UnreachableError || error instanceof AuthError) throw error;
      log.client('logs', { container, error: describeKubeError(error) });
    }
  }
}
