/**
 * When a pull waited for the kubelet's other pulls ("(2.1s including waiting)") or the kubelet
 * refused it for its registry QPS, the kubelet's own settings say why: serializeImagePulls,
 * maxParallelImagePulls, registryPullQPS and registryBurst, from its /configz through the API
 * server's node proxy (nodes/proxy, as `podtrace doctor` reads it). Recorded as `kubelet-config`;
 * a refusal is recorded too, so the trace can say the settings are unknown and why.
 */
import { describeKubeError, isKubeError } from '../../kube/errors.js';
import { kubeletConfigFacts } from '../../trace/doctor-findings.js';
import type { RunState } from './state.js';

/** A pull that waited at least this long for others is worth the kubelet's settings. */
export const PULL_WAIT_WORTH_MS = 50;

/** From the trace the wait stopped on: no trace is rebuilt for it. */
export async function recordPullSettings(state: RunState): Promise<void> {
  const trace = state.traceAtStop;
  if (trace === undefined) return;
  const node = trace.pod.nodeName;
  const waited = trace.containers.some((c) => c.pullMs !== undefined && c.pullIncludingWaitingMs !== undefined && c.pullIncludingWaitingMs - c.pullMs >= PULL_WAIT_WORTH_MS);
  const qps = trace.containers.some((c) => /QPS exceeded/i.test(c.pullFailure?.message ?? ''));
  if (node === undefined || (!waited && !qps)) return;
  try {
    const facts = kubeletConfigFacts(await state.api.kubeletConfig(node));
    if (!facts) {
      state.log.client('kubelet-config', { node, error: 'its /configz answer has no kubeletconfig' });
      return;
    }
    const { serializeImagePulls, maxParallelImagePulls, registryPullQPS, registryBurst } = facts;
    state.log.client('kubelet-config', {
      node,
      ...(serializeImagePulls !== undefined ? { serializeImagePulls } : {}),
      ...(maxParallelImagePulls !== undefined ? { maxParallelImagePulls } : {}),
      ...(registryPullQPS !== undefined ? { registryPullQPS } : {}),
      ...(registryBurst !== undefined ? { registryBurst } : {}),
    });
  } catch (error) {
    state.log.client('kubelet-config', { node, error: describeKubeError(error), forbidden: isKubeError(error, 'forbidden') });
  }
}
