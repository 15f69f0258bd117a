/**
 * Interrupts (issue: reliability): SIGINT or SIGTERM while the pod waits to
 * be scheduled, while its image is pulled and while it waits for readiness.
 * Each time the pod is deleted, the partial trace saved and marked
 * interrupted, the exit code 130/143; a second signal ends podtrace at once
 * with the cleanup command.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { clusterHook, coreEvents, deletePod, kubeconfigPath, readPod, startPodtrace, uniqueName, waitFor, waitForPod, waitForPodGone } from './harness.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-interrupts-'));
const leftovers: string[] = [];

afterAll(async () => {
  for (const name of leftovers) await deletePod(name);
});

/** How far the pod's status in the API can trail the kubelet's events (its status sync, about a second). */
const STATUS_LAG_MS = 1000;

interface Step {
  step: string;
  signal: 'SIGINT' | 'SIGTERM';
  args: string[];
  before?: () => Promise<unknown>;
  /** The pod is in the step: time to send the signal. */
  reached: (pod: V1Pod) => boolean | Promise<boolean>;
  /** A milestone of the step itself: the trace saw the step begin. */
  inStep?: string;
  /**
   * The milestone that ends the step. The trace may hold it only when it came
   * after the signal: the kubelet can finish a pull in the moment between the
   * test's last look and podtrace's DELETE, and a pod that started then did start.
   */
  notReached: string;
}

const STEPS: Step[] = [
  {
    step: 'scheduling (no node matches)',
    signal: 'SIGINT',
    args: ['nginx', '--node-selector', 'podtrace.dev/nowhere=true'],
    reached: (pod) => pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') === true,
    notReached: 'scheduler.scheduled',
  },
  {
    step: 'image pull',
    signal: 'SIGTERM',
    args: ['podtrace/big'],
    before: () => clusterHook('rmi', 'podtrace/big'),
    reached: async (pod) =>
      !pod.status?.containerStatuses?.some((c) => c.imageID) && (await coreEvents(pod.metadata!.name!)).some((e) => e.reason === 'Pulling'),
    inStep: 'container.big.pulling',
    notReached: 'container.big.started',
  },
  {
    step: 'readiness',
    signal: 'SIGINT',
    args: ['podtrace/slow-ready', '--env', 'READY_AFTER=3600', '--readiness', 'http:8080/ready'],
    reached: (pod) => pod.status?.containerStatuses?.some((c) => c.state?.running) === true,
    notReached: 'pod.ready',
  },
];

describe('interrupts', () => {
  it.each(STEPS)('$signal during $step: pod deleted, partial trace saved and marked interrupted', async (s) => {
    await s.before?.();
    const name = uniqueName('intr');
    leftovers.push(name);
    const run = startPodtrace(['create', ...s.args, '--name', name, '--kubeconfig', kubeconfigPath(), '--timeout', '3m', '--out', `${name}.json`], cwd);
    // when the test last saw the pod in the step (before it read it): what had not happened then may happen before the signal lands
    let lookedAt = 0;
    await waitFor(`pod ${name} in the ${s.step} step`, 60_000, async () => {
      const at = Date.now();
      if (!(await s.reached(await readPod(name)))) return undefined;
      lookedAt = at;
      return true;
    });
    run.child.kill(s.signal);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(s.signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
    expect(result.stderr).toContain(`${s.signal} received: deleting the pod and saving the partial trace`);
    const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
    expect(trace.outcome.class).toBe('interrupted');
    expect(trace.outcome.exitCode).toBe(result.code);
    expect(trace.run.complete).toBe(false);
    expect(trace.run.incomplete).toContain(`interrupted by ${s.signal}`);
    const ids = trace.milestones.map((m) => m.id);
    expect(ids).toContain('api.accepted');
    expect(ids).toContain('teardown.delete-sent');
    if (s.inStep) expect(ids).toContain(s.inStep);
    const late = trace.milestones.find((m) => m.id === s.notReached);
    // the latest time the milestone can have happened is at + precisionMs; same host, so one clock.
    // A pull can end between the test's last look and the signal, and the pod's status the test
    // reads lags the kubelet's own events by up to its status sync (a container started 37 ms
    // before a look that still saw no image): only well before that look is wrong.
    if (late) expect(late.at + late.precisionMs, `${s.notReached} before the test saw the pod in the step`).toBeGreaterThanOrEqual(lookedAt - STATUS_LAG_MS);
    // podtrace's DELETE is what removes it (the test deletes nothing before this)
    await waitForPodGone(name, 60_000);
  });

  it('a second SIGINT exits at once and prints the cleanup command', async () => {
    const name = uniqueName('intr2');
    leftovers.push(name);
    // a container that ignores SIGTERM keeps the pod terminating after the first signal's DELETE
    const run = startPodtrace(
      ['create', 'nginx', '--name', name, '--kubeconfig', kubeconfigPath(), '--out', `${name}.json`]
        .concat(['--command', '--', 'sh', '-c', 'trap "" TERM; while :; do sleep 1; done']),
      cwd,
    );
    await waitForPod(name, 'a container running', 60_000, (pod) => pod.status?.containerStatuses?.some((c) => c.state?.running) === true);
    run.child.kill('SIGINT');
    await waitFor('the first signal to be handled', 5_000, async () => (run.stderr().includes('SIGINT received') ? true : undefined));
    run.child.kill('SIGINT');
    const started = Date.now();
    const result = await run.done;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.code).toBe(EXIT.interrupted);
    expect(result.stderr).toContain(`podtrace: stopped by a second SIGINT. The pod may still exist: kubectl delete pod -n default ${name}`);
  });
});
