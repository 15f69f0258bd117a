/**
 * The pod's deletion, timed: DELETE, then the watch until the pod is gone
 * (its grace period and some, or a few seconds after a Ctrl-C).
 */
import { describeKubeError, isKubeError, KubeApiError } from '../../kube/errors.js';
import { cleanupCommand, interrupted, type RunState } from './state.js';

/** How long to wait for the pod to disappear after DELETE, beyond its termination grace period. */
const TEARDOWN_EXTRA_MS = 30_000;
/** How long to keep tracing the deletion after the person interrupted the run. */
const INTERRUPTED_TEARDOWN_MS = 5_000;

export async function teardown(state: RunState): Promise<void> {
  const { log, api, namespace, podName, stop } = state;
  const watchers = state.watchers!;
  state.progress.step('deleting the pod');
  log.client('delete-sent', {});
  try {
    const response = await api.deletePod(namespace, podName);
    log.client('delete-response', { status: response.status });
  } catch (error) {
    if (isKubeError(error, 'not-found')) {
      log.client('delete-error', { status: 404, message: error.message });
      watchers.markGone('delete-404');
      return;
    }
    log.client('delete-error', { status: error instanceof KubeApiError ? error.status : 0, message: describeKubeError(error) });
    state.progress.note(`warning: could not delete the pod (${describeKubeError(error)}). Clean up with: ${cleanupCommand(state)}`);
    return;
  }
  state.podMayExist = false;
  const grace = state.request.manifest.spec['terminationGracePeriodSeconds'];
  // After Ctrl-C the person wants out: give the deletion a few seconds to be traced, not the whole grace period.
  const limitMs = interrupted(state) ? INTERRUPTED_TEARDOWN_MS : (typeof grace === 'number' ? grace : 30) * 1000 + TEARDOWN_EXTRA_MS;
  state.progress.step('waiting for the pod to be gone');
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), limitMs);
  let shortened: NodeJS.Timeout | undefined;
  const shorten = (): void => {
    shortened = setTimeout(() => timeout.abort(), INTERRUPTED_TEARDOWN_MS);
  };
  stop.signal.addEventListener('abort', shorten, { once: true });
  await watchers.waitUntilGone(timeout.signal);
  stop.signal.removeEventListener('abort', shorten);
  clearTimeout(timer);
  clearTimeout(shortened);
  if (!watchers.podGone) {
    await confirmGone(state);
    if (!watchers.podGone) state.progress.note(`note: the pod was still terminating when podtrace stopped watching; it will go away on its own`);
  }
}

async function confirmGone(state: RunState): Promise<void> {
  try {
    await state.api.getPod(state.namespace, state.podName);
  } catch (error) {
    if (isKubeError(error, 'not-found')) state.watchers!.markGone('get-404');
  }
}

/** After an error: delete what may exist, saying how to clean up when that fails. */
export async function bestEffortDelete(state: RunState): Promise<void> {
  try {
    await state.api.deletePod(state.namespace, state.podName);
  } catch (error) {
    if (!isKubeError(error, 'not-found')) state.stderr.write(`podtrace: could not delete the pod; clean up with: ${cleanupCommand(state)}\n`);
  }
}
