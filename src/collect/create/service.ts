/**
 * --expose: a Service named after the pod, selecting it by its run label, and
 * whether the cluster runs a DNS Service that would give it a name. Runs
 * while the pod starts; its answers are observations like any other.
 */
import { describeKubeError, isKubeError, KubeApiError } from '../../kube/errors.js';
import { clusterIPOf, serviceDnsName } from '../../trace/kube-objects.js';
import { pause } from '../stop.js';
import { collectReachPod, deleteReachPod, startReachPod } from './reach-pod.js';
import { REACH_GRACE_MS, reachFromClient, type ReachTargets } from './service-reach.js';
import { interrupted, type RunState } from './state.js';

export async function exposePod(state: RunState, port: number): Promise<void> {
  const { log, api, namespace, podName, request } = state;
  const body = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: podName, namespace, labels: { [request.managedBy.key]: request.managedBy.value, [request.runLabel.key]: request.runLabel.value } },
    spec: { selector: { [request.runLabel.key]: request.runLabel.value }, ports: [{ name: 'traced', port, targetPort: port, protocol: 'TCP' }] },
  };
  const dns = api.getService('kube-system', 'kube-dns').then(
    (service) => {
      const clusterIP = clusterIPOf(service);
      log.client('cluster-dns', { service: 'kube-system/kube-dns', found: true, ...(clusterIP ? { clusterIP } : {}) });
      return { found: 'found' as const, clusterIP };
    },
    (error: unknown) => {
      const absent = isKubeError(error, 'not-found');
      log.client('cluster-dns', absent ? { service: 'kube-system/kube-dns', found: false } : { error: describeKubeError(error) });
      return { found: absent ? ('absent' as const) : ('unknown' as const), clusterIP: undefined };
    },
  );
  state.serviceMayExist = true;
  try {
    const response = await api.createService(namespace, body);
    log.client('service-created', { status: response.status, service: response.object });
    // from here on, try the Service: its cluster IP, then its name, from this machine and from a probe pod
    const clusterIP = clusterIPOf(response.object);
    const { found, clusterIP: dnsServer } = await dns;
    const targets: ReachTargets = {
      ...(clusterIP && clusterIP !== 'None' ? { clusterIP } : {}),
      port,
      ...(dnsServer ? { dnsServer } : {}),
      name: serviceDnsName(podName, namespace),
      clusterDns: found,
    };
    const reach = request.reach ?? { client: true };
    if (reach.client) {
      state.reachStop = new AbortController();
      state.reach = reachFromClient(state, targets, AbortSignal.any([state.reachStop.signal, state.stop.signal]));
    }
    if (reach.podImage !== undefined && !interrupted(state)) {
      // it tries until the pod's --timeout and the grace after Ready have passed, unless deleted first
      state.reachPod = await startReachPod(state, reach.podImage, targets, request.timeoutMs + REACH_GRACE_MS);
    }
  } catch (error) {
    log.client('service-error', {
      status: error instanceof KubeApiError ? error.status : 0,
      reason: error instanceof KubeApiError ? error.reason : 'Unreachable',
      message: describeKubeError(error),
    });
    // 409: a Service of that name exists and is not ours: never delete it.
    if (error instanceof KubeApiError) state.serviceMayExist = false;
    state.progress.note(`warning: could not create the Service (${describeKubeError(error)}): the trace goes on without it`);
  } finally {
    await dns;
  }
}

/**
 * The tries to reach the Service, once the pod's outcome is known: after Ready they may go on for
 * REACH_GRACE_MS (kube-proxy and the DNS catch up), otherwise they end at once.
 */
export async function settleReach(state: RunState, ready: boolean): Promise<void> {
  await state.service;
  const probe = state.reachPod;
  const fromPod = probe?.mayExist ? collectReachPod(state, probe, state.log.clock.now() + (ready ? REACH_GRACE_MS : 0), state.stop.signal) : undefined;
  if (ready && state.reach !== undefined) await Promise.race([state.reach, pause(REACH_GRACE_MS, state.stop.signal)]);
  state.reachStop?.abort();
  await state.reach;
  await fromPod;
  // its work is done: gone while the rest of the run goes on
  if (probe !== undefined) deleteReachPod(state, probe);
}

/** The probe pod deleted and gone (or given up on), whatever became of the run. */
export async function removeReachPod(state: RunState): Promise<void> {
  const probe = state.reachPod;
  if (probe === undefined) return;
  deleteReachPod(state, probe);
  await probe.gone;
}

export async function deleteService(state: RunState): Promise<void> {
  if (state.service === undefined) return;
  await state.service;
  if (!state.serviceMayExist) return;
  const { log, api, namespace, podName } = state;
  try {
    const response = await api.deleteService(namespace, podName);
    log.client('service-deleted', { status: response.status });
    state.serviceMayExist = false;
  } catch (error) {
    if (isKubeError(error, 'not-found')) {
      state.serviceMayExist = false;
      return;
    }
    log.client('service-deleted', { error: describeKubeError(error) });
    state.progress.note(`warning: could not delete the Service (${describeKubeError(error)}). Clean up with: kubectl delete service -n ${namespace} ${podName}`);
  }
}
