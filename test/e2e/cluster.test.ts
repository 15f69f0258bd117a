/**
 * The cluster itself: what later tests rely on, checked on the real thing.
 * Each pod is deleted after its test, whatever the outcome.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  clients,
  clusterHook,
  condition,
  coreEvents,
  createPod,
  deletePod,
  eventsV1,
  schedulableNode,
  simplePod,
  uniqueName,
  waitFor,
  waitForPod,
} from './harness.js';

const created: string[] = [];
async function create(...args: Parameters<typeof simplePod>) {
  created.push(args[0]);
  return createPod(simplePod(...args));
}
afterEach(async () => {
  await Promise.all(created.splice(0).map((name) => deletePod(name)));
});

function kubeletReasons(events: Awaited<ReturnType<typeof coreEvents>>): string[] {
  return events.filter((e) => e.source?.component === 'kubelet').map((e) => String(e.reason));
}

describe('local cluster', () => {
  it('runs nginx to Ready with scheduler and kubelet events, then finds the image present', async () => {
    await clusterHook('rmi', 'nginx');
    const first = uniqueName('cluster-nginx');
    await create(first, 'nginx', { containers: [{ name: 'main', image: 'nginx', imagePullPolicy: 'IfNotPresent' }] });
    const pod = await waitForPod(first, 'Ready', 120_000, (p) => condition(p, 'Ready') === 'True');
    expect(pod.status?.podIP).toMatch(/^198\.18\.[01]\./);

    const scheduled = await waitFor('the Scheduled event (events.k8s.io/v1)', 30_000, async () =>
      (await eventsV1(first)).find((e) => e.reason === 'Scheduled'),
    );
    expect(scheduled.reportingController).toBe('default-scheduler');
    expect(scheduled.eventTime).toBeTruthy();

    const events = await waitFor('the Started event', 30_000, async () => {
      const list = await coreEvents(first);
      return kubeletReasons(list).includes('Started') ? list : undefined;
    });
    const reasons = kubeletReasons(events);
    for (const reason of ['Pulling', 'Pulled', 'Created', 'Started']) expect(reasons).toContain(reason);
    const pulled = events.find((e) => e.reason === 'Pulled');
    expect(pulled?.message).toMatch(/Successfully pulled image "nginx" in [\d.]+m?s .*Image size: \d+ bytes/);
    // event names end in the emitter's clock as hex nanoseconds: podtrace relies on it
    expect(pulled?.metadata?.name).toMatch(new RegExp(`^${first}\\.[0-9a-f]{16}$`));

    // on the first pod's node, where the image now is
    const second = uniqueName('cluster-nginx');
    await create(second, 'nginx', { nodeName: pod.spec!.nodeName!, containers: [{ name: 'main', image: 'nginx', imagePullPolicy: 'IfNotPresent' }] });
    await waitForPod(second, 'Ready', 60_000, (p) => condition(p, 'Ready') === 'True');
    const secondPulled = await waitFor('the second pod’s Pulled event', 30_000, async () =>
      (await coreEvents(second)).find((e) => e.reason === 'Pulled'),
    );
    expect(secondPulled.message).toMatch(/already present on machine/);
  });

  it('serves the kubelet’s /metrics and /stats/summary through the API server’s node proxy', async () => {
    const { core } = clients();
    // a kubelet's histograms have series once it has started a pod and pulled an image: with two
    // nodes, a given one may have done neither yet, so this test makes it do both
    const node = await schedulableNode();
    await clusterHook('rmi', 'nginx', node);
    const name = uniqueName('cluster-metrics');
    await create(name, 'nginx', { nodeName: node, containers: [{ name: 'main', image: 'nginx', imagePullPolicy: 'IfNotPresent' }] });
    await waitForPod(name, 'Ready', 120_000, (p) => condition(p, 'Ready') === 'True');
    const metrics = String(await core.connectGetNodeProxyWithPath({ name: node, path: 'metrics' }));
    expect(metrics).toMatch(/^kubelet_pod_start_sli_duration_seconds_bucket/m);
    expect(metrics).toMatch(/^kubelet_image_pull_duration_seconds_bucket/m);
    // client-node hands back JSON bodies already parsed
    const raw: unknown = await core.connectGetNodeProxyWithPath({ name: node, path: 'stats/summary' });
    const summary = (typeof raw === 'string' ? JSON.parse(raw) : raw) as {
      node: { nodeName: string; cpu?: { usageNanoCores?: number } };
      pods: unknown[];
    };
    expect(summary.node.nodeName).toBe(node);
    expect(summary.node.cpu?.usageNanoCores).toBeGreaterThan(0);
  });

  it('fails to pull podtrace/missing: ErrImagePull, then ImagePullBackOff', async () => {
    const name = uniqueName('cluster-missing');
    await create(name, 'podtrace/missing');
    const seen = new Set<string>();
    await waitForPod(name, 'ErrImagePull and ImagePullBackOff', 90_000, (p) => {
      const reason = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (reason) seen.add(reason);
      return seen.has('ErrImagePull') && seen.has('ImagePullBackOff');
    }).catch(async (error) => {
      // the two states alternate quickly; the events keep both
      const reasons = (await coreEvents(name)).map((e) => `${e.reason}: ${e.message}`);
      if (reasons.some((r) => r.startsWith('BackOff')) && reasons.some((r) => r.includes('ErrImagePull'))) return;
      throw error;
    });
    const failed = (await coreEvents(name)).find((e) => e.reason === 'Failed' && /ErrImagePull|pull/i.test(String(e.message)));
    expect(failed?.message).toMatch(/not found/);
  });

  it('puts podtrace/crash into CrashLoopBackOff', async () => {
    const name = uniqueName('cluster-crash');
    await create(name, 'podtrace/crash');
    const pod = await waitForPod(name, 'CrashLoopBackOff', 90_000, (p) =>
      p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    const status = pod.status?.containerStatuses?.[0];
    expect(status?.lastState?.terminated?.exitCode).toBe(1);
    expect(status?.restartCount).toBeGreaterThanOrEqual(1);
  });

  it('cannot schedule a pod asking for 1000 CPUs: FailedScheduling', async () => {
    const name = uniqueName('cluster-huge');
    await create(name, 'nginx', {
      containers: [{ name: 'main', image: 'nginx', resources: { requests: { cpu: '1000' } } }],
    });
    const event = await waitFor('FailedScheduling', 60_000, async () =>
      (await eventsV1(name)).find((e) => e.reason === 'FailedScheduling'),
    );
    expect(event.note).toMatch(/Insufficient cpu/);
    const pod = await waitForPod(name, 'PodScheduled=False', 10_000, (p) => condition(p, 'PodScheduled') === 'False');
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.reason).toBe('Unschedulable');
  });

  it('makes podtrace/slow-ready Ready only after its delay', async () => {
    const name = uniqueName('cluster-slow');
    const delaySeconds = 6;
    await create(name, 'podtrace/slow-ready', {
      containers: [
        {
          name: 'main',
          image: 'podtrace/slow-ready',
          env: [{ name: 'READY_AFTER', value: String(delaySeconds) }],
          readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    });
    const pod = await waitForPod(name, 'Ready', 90_000, (p) => condition(p, 'Ready') === 'True');
    const started = Date.parse(String(pod.status?.containerStatuses?.[0]?.state?.running?.startedAt));
    const ready = new Date(String(pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime)).getTime();
    // both are 1-second timestamps: allow one second of truncation
    expect(ready - started).toBeGreaterThanOrEqual((delaySeconds - 1) * 1000);
    const unhealthy = (await coreEvents(name)).filter((e) => e.reason === 'Unhealthy');
    expect(unhealthy.length).toBeGreaterThan(0);
    expect(unhealthy[0]?.message).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 503/);
  });
});
