/**
 * Before anything is created: the server's version, who we are, whether we
 * may create and delete pods, and whether the namespace exists, all at once,
 * each recorded as it completes. A forbidden create sends no POST.
 */
import { AuthError, NamespaceNotFoundError, NodeNotFoundError, UnreachableError } from '../../errors.js';
import { describeKubeError, KubeApiError } from '../../kube/errors.js';
import type { RunState } from './state.js';

/** True when the run may go on to create the pod. Connection and credential failures end the run. */
export async function preflight(state: RunState): Promise<boolean> {
  const { api, log, namespace } = state;
  let createAllowed = true;
  const recorded = <T>(type: 'server-version' | 'self-subject-review', call: Promise<T>): Promise<void> =>
    call.then(
      (value) => void log.client(type, { ...(value as Record<string, unknown>) }),
      (error: unknown) => {
        log.client(type, { error: describeKubeError(error) });
        throw error;
      },
    );
  const review = (verb: 'create' | 'delete'): Promise<void> =>
    api.accessReview({ verb, resource: 'pods', namespace }).then(
      (result) => {
        log.client('access-review', { verb, resource: 'pods', namespace, ...result });
        if (verb === 'create' && !result.allowed) createAllowed = false;
        if (verb === 'delete' && !result.allowed) state.deleteAllowed = false;
      },
      (error: unknown) => {
        // Unknown, not denied: the POST will tell.
        log.client('access-review', { verb, resource: 'pods', namespace, error: describeKubeError(error) });
        throw error;
      },
    );
  const results = await Promise.allSettled([
    recorded('server-version', api.serverVersion()),
    recorded('self-subject-review', api.selfSubjectReview()),
    review('delete'),
    review('create'),
    api.namespaceStatus(namespace),
    state.request.node !== undefined ? api.nodeStatus(state.request.node) : Promise.resolve(undefined),
  ]);
  // Connection and credential problems end the run; anything else only weakens the trace. Refused
  // credentials first: the server closes the connection after refusing them, which other requests
  // on it may report as a connection failure.
  for (const kind of [AuthError, UnreachableError]) {
    const failed = results.find((result) => result.status === 'rejected' && result.reason instanceof kind);
    if (failed?.status === 'rejected') throw failed.reason;
  }
  const nsResult = results[4];
  if (nsResult.status === 'fulfilled' && nsResult.value === 'not-found') {
    const target = api.target;
    const from = target.namespaceSource === 'flag' ? '-n' : target.namespaceSource === 'context' ? `context "${target.context}"` : 'the default';
    throw new NamespaceNotFoundError(
      `namespace "${namespace}" (from ${from}) does not exist on ${target.server}: create it (kubectl create namespace ${namespace}) or pass -n`,
    );
  }
  const nodeResult = results[5];
  if (nodeResult.status === 'fulfilled' && nodeResult.value === 'not-found') {
    throw new NodeNotFoundError(`node "${state.request.node}" does not exist on ${api.target.server}: pick one of kubectl get nodes, or drop --node`);
  }
  if (!createAllowed) {
    state.progress.note(`not allowed to create pods in namespace ${namespace}: nothing was created`);
  } else if (!state.deleteAllowed && !state.request.keep) {
    state.progress.note(`warning: not allowed to delete pods in ${namespace}: podtrace cannot clean up after itself`);
  }
  return createAllowed;
}

/** The POST; true when the pod was created. Its answer, or refusal, is an observation either way. */
export async function postPod(state: RunState): Promise<boolean> {
  const { log, api, namespace } = state;
  state.progress.step('creating the pod');
  log.client('submitted', { pod: state.request.manifest });
  state.podMayExist = true;
  log.client('post-sent', {});
  try {
    const response = await api.createPod(namespace, state.request.manifest);
    log.client('post-response', { status: response.status, pod: response.object });
    // the API server's counts after the POST (its admission and etcd write), once the kubelet has reported the pod
    state.metrics?.readApiserverAfterKubeletStatus(state.podName);
    return true;
  } catch (error) {
    if (error instanceof AuthError) throw error;
    if (!(error instanceof KubeApiError)) {
      // No answer: the pod may or may not exist.
      log.client('post-error', { status: 0, reason: 'Unreachable', message: describeKubeError(error) });
      return false;
    }
    log.client('post-error', {
      status: error.status,
      reason: error.reason,
      message: error.message,
      ...(error.details !== undefined ? { details: error.details } : {}),
    });
    // Refused (a 409 means a pod of that name exists and is not ours): never delete it.
    state.podMayExist = false;
    return false;
  }
}
