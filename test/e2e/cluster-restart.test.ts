/**
 * Fault injection hooks later tests use: restarting the API server or the
 * kubelet keeps etcd's data, and a running pod survives both untouched.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  clusterHook,
  condition,
  createPod,
  deletePod,
  readPod,
  simplePod,
  uniqueName,
  waitFor,
  waitForPod,
  waitForSchedulerAfterRestart,
} from './harness.js';

describe('restart hooks', () => {
  const name = uniqueName('cluster-survivor');
  afterAll(() => deletePod(name));

  it('restarts the API server and the kubelet while a pod runs, and the pod survives', async () => {
    await createPod(simplePod(name, 'nginx'));
    const before = await waitForPod(name, 'Ready', 120_000, (p) => condition(p, 'Ready') === 'True');
    const containerId = before.status?.containerStatuses?.[0]?.containerID;

    for (const component of ['apiserver', 'kubelet']) {
      await clusterHook('restart', component);
      const after = await waitFor(`pod ${name} after restarting the ${component}`, 60_000, async () => {
        const pod = await readPod(name);
        return condition(pod, 'Ready') === 'True' ? pod : undefined;
      });
      expect(after.metadata?.uid).toBe(before.metadata?.uid);
      expect(after.status?.containerStatuses?.[0]?.containerID).toBe(containerId);
      expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    }

    await waitForSchedulerAfterRestart();
  });
});
