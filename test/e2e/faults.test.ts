/**
 * Faults while a pod starts (issue: reliability). The cluster's own restart
 * hooks restart the API server or the kubelet while podtrace watches a cold
 * podtrace/big start: the trace must complete, show each watch's gap, and
 * (for the kubelet) record the restart from the node's events.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import {
  AFTER_RESTART_MS,
  clusterHook,
  coreEvents,
  kubeconfigPath,
  readPod,
  runPodtrace,
  schedulableNode,
  uniqueName,
  waitFor,
  waitForPodGone,
  waitForSchedulerAfterRestart,
} from './harness.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-faults-'));

/** Starts a cold podtrace/big trace, restarts `component` once the pod is scheduled, returns the trace. */
async function traceThroughRestart(component: 'apiserver' | 'kubelet' | 'containerd' | 'etcd'): Promise<{ code: number; trace: Trace }> {
  await clusterHook('rmi', 'podtrace/big');
  const name = uniqueName(`fault-${component}`);
  const running = runPodtrace(
    ['create', 'podtrace/big', '--name', name, '--kubeconfig', kubeconfigPath(), '-q', '--timeout', '3m', '--out', `${name}.json`],
    cwd,
  );
  // the pull of 240 MB takes seconds: restart while the kubelet is at it. The
  // kubelet's events about the pull are then written while the server is down
  // and arrive late, with its retries: the trace must still hold them.
  const node = await waitFor(`pod ${name} to be scheduled`, 30_000, async () => (await readPod(name)).spec?.nodeName);
  if (component !== 'kubelet') {
    await waitFor(`the kubelet to start pulling for ${name}`, 30_000, async () => ((await coreEvents(name)).some((e) => e.reason === 'Pulling') ? true : undefined));
  }
  // a node's own part (its kubelet, its containerd) is restarted on the pod's node only
  await clusterHook('restart', component, ...(component === 'kubelet' || component === 'containerd' ? [node] : []));
  const result = await running;
  return { code: result.code, trace: JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace };
}

/** The trace through a restart ends Ready and complete, with these milestones in it. */
async function readyThroughRestart(component: 'containerd' | 'etcd', milestones: string[]): Promise<Trace> {
  const { code, trace } = await traceThroughRestart(component);
  expect(code).toBe(EXIT.ok);
  expect(trace.outcome.class).toBe('ready');
  expect(trace.run.complete).toBe(true);
  for (const id of milestones) expect(trace.milestones.map((m) => m.id)).toContain(id);
  return trace;
}

// The hook's own timeout covers the wait inside it (plus the probe pod's deletion).
afterAll(async () => {
  await waitForSchedulerAfterRestart();
}, AFTER_RESTART_MS + 30_000);

describe('faults during a trace', () => {
  it('API server restarted while the pod starts: the trace completes and shows the gap', async () => {
    const { code, trace } = await traceThroughRestart('apiserver');
    expect(code).toBe(EXIT.ok);
    expect(trace.outcome.class).toBe('ready');
    const gapped = new Set(trace.gaps.map((g) => g.watch));
    for (const watch of ['pod', 'event', 'eventsv1']) expect(gapped).toContain(watch);
    for (const g of trace.gaps) expect(g.durationMs).toBeGreaterThanOrEqual(0);
    for (const id of ['container.big.pulled', 'container.big.started', 'pod.ready', 'teardown.pod-gone']) {
      expect(trace.milestones.map((m) => m.id)).toContain(id);
    }
    // The kubelet's events written while the server was down arrive with its
    // retries; podtrace waits for them, so no milestone is left timed from status.
    expect(trace.anomalies.filter((a) => a.kind === 'missing-event')).toEqual([]);
    // The scheduler's watches come back with their own back-off after an API server restart
    // (seen: over 30 s): the next trace needs it.
    await waitForSchedulerAfterRestart();
  }, AFTER_RESTART_MS + 60_000);

  it('containerd restarted in the middle of the pull: the pull is retried, the trace completes', async () => {
    await readyThroughRestart('containerd', ['container.big.pulled', 'container.big.started', 'pod.ready', 'teardown.pod-gone']);
  }, AFTER_RESTART_MS + 60_000);

  it('etcd restarted while the pod starts: the trace completes, and says which events were lost', async () => {
    const trace = await readyThroughRestart('etcd', ['scheduler.scheduled', 'container.big.started', 'pod.ready', 'teardown.pod-gone']);
    // events the kubelet wrote while etcd was down may be lost for good: every step timed without
    // its event says so, and is timed from the status it left instead
    for (const a of trace.anomalies.filter((x) => x.kind === 'missing-event')) expect(a.explanation).toMatch(/timed from /);
    await waitForSchedulerAfterRestart();
  }, AFTER_RESTART_MS + 60_000);

  it('the node goes NotReady while the pod starts on it: not rescheduled, the trace records the change and ends classified', async () => {
    const node = await schedulableNode();
    const name = uniqueName('fault-notready');
    // Ready only after 300 s: the pod is still starting when its node is lost
    const running = runPodtrace(
      ['create', 'podtrace/slow-ready', '--name', name, '--node', node, '--env', 'READY_AFTER=300', '--readiness', 'http:8080/ready',
        '--kubeconfig', kubeconfigPath(), '-q', '--timeout', '100s', '--out', `${name}.json`],
      cwd,
    );
    // and its readiness probe has failed once (the class below is the probe's): stopped as soon as
    // the container ran, the kubelet had sometimes not probed yet, and the run was a plain timeout
    await waitFor(`pod ${name}'s readiness probe to fail once`, 60_000, async () => ((await coreEvents(name)).some((e) => e.reason === 'Unhealthy') ? true : undefined));
    await clusterHook('stop', 'kubelet', node);
    let code: number;
    try {
      // the node controller marks the node NotReady (Unknown) after its grace period, 50 s
      ({ code } = await running);
    } finally {
      await clusterHook('restart', 'kubelet', node);
    }
    const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
    // its readiness probe had not passed when --timeout came: the class is the probe's, the cause
    // the node that was lost
    expect(code).toBe(EXIT.readinessNeverSucceeded);
    expect(trace.outcome.class).toBe('readiness-never-succeeded');
    expect(trace.outcome.cause).toMatchObject({ code: 'node-not-ready' });
    expect(trace.outcome.cause!.chain[1]).toMatch(new RegExp(`^node ${node} is Ready=Unknown`));
    expect(trace.outcome.hint).toMatch(/a bare pod is not moved to another node/);
    expect(trace.node?.name).toBe(node);
    expect(trace.node?.conditionChanges).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'Unknown', previousStatus: 'True' }));
    // a bare pod is not moved to another node
    expect(trace.milestones.filter((m) => m.id === 'scheduler.scheduled')).toHaveLength(1);
    await waitForPodGone(name, 120_000);
  }, 300_000);

  it('kubelet restarted while the pod starts: the trace completes and records the restart', async () => {
    const { code, trace } = await traceThroughRestart('kubelet');
    expect(code).toBe(EXIT.ok);
    expect(trace.outcome.class).toBe('ready');
    const starting = trace.node?.events?.filter((e) => e.reason === 'Starting' && e.component === 'kubelet') ?? [];
    expect(starting).toHaveLength(1);
    expect(trace.anomalies.some((a) => a.kind === 'kubelet-restarted')).toBe(true);
  });
});
