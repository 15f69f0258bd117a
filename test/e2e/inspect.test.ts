/**
 * `podtrace inspect POD` (issue: beyond startup): a trace for a pod podtrace
 * did not create, from its status and the events left, with each milestone's
 * source and precision. Nothing is created or deleted.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Milestone, Trace } from '../../src/trace/types.js';
import { schemaErrors } from '../unit/trace/schema-validator.js';
import { serverOf } from './tcp-proxy.js';
import {
  clients,
  condition,
  createPod,
  deletePod,
  keepRecording,
  kubeconfigPath,
  NAMESPACE,
  readPod,
  runPodtrace,
  simplePod,
  uniqueName,
  waitForPod,
} from './harness.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-inspect-'));
const leftovers: string[] = [];

afterAll(async () => {
  for (const name of leftovers) await deletePod(name);
});

/** A pod made the way a controller would make it: straight through the API, not by podtrace. */
async function startedElsewhere(prefix: string, image: string, ready: boolean): Promise<string> {
  const name = uniqueName(prefix);
  leftovers.push(name);
  await createPod(simplePod(name, image));
  // A crash-looping container runs (and is Ready) for a moment at each restart.
  // After its second restart the kubelet backs off for 20 s: inspecting as soon
  // as it is down again reads it between runs, not during one.
  await waitForPod(name, ready ? 'Ready' : 'down after its second restart', 90_000, (pod) =>
    ready
      ? condition(pod, 'Ready') === 'True'
      : pod.status?.containerStatuses?.some((c) => (c.restartCount ?? 0) >= 2 && c.state?.running === undefined) === true,
  );
  return name;
}

async function inspect(name: string, label: string): Promise<{ code: number; stderr: string; trace: Trace }> {
  const recording = path.join(cwd, `${label}.ndjson`);
  const result = await runPodtrace(['inspect', name, '-n', NAMESPACE, '--kubeconfig', kubeconfigPath(), '-o', 'json', '--record', recording], cwd);
  expect(result.stdout.trim().startsWith('{'), result.stderr).toBe(true);
  const trace = JSON.parse(result.stdout) as Trace;
  expect(schemaErrors(trace)).toEqual([]);
  keepRecording(recording, trace, label);
  return { code: result.code, stderr: result.stderr, trace };
}

function byId(trace: Trace): Map<string, Milestone> {
  return new Map(trace.milestones.map((m) => [m.id, m]));
}

describe('podtrace inspect', () => {
  it('a Ready pod it did not create: every step from creation to Ready, timed from events and status, and the pod untouched', async () => {
    const name = await startedElsewhere('inspect', 'nginx', true);
    const pod = await readPod(name);
    const { code, trace } = await inspect(name, 'inspect');
    expect(code).toBe(EXIT.ok);
    expect(trace.run.mode).toBe('inspect');
    expect(trace.run.t0Source).toBe('pod-created');
    expect(trace.outcome.class).toBe('ready');
    expect(trace.outcome.message).toMatch(/after it was created$/);
    const m = byId(trace);
    for (const id of ['api.accepted', 'scheduler.scheduled', 'container.main.started', 'pod.ready']) expect(m.has(id), id).toBe(true);
    // the kubelet's events are still there: their names time the steps to the microsecond, not the second
    expect(m.get('container.main.started')!.precisionMs).toBeLessThan(1000);
    // no milestone timed from the moment podtrace looked
    expect(trace.milestones.filter((x) => x.source === 'watch-observed')).toEqual([]);
    // t0 is the creation second, and Ready is no earlier
    expect(trace.run.t0).toBeGreaterThanOrEqual(Date.parse(pod.metadata!.creationTimestamp as unknown as string) - 1000);
    expect(m.get('pod.ready')!.offsetMs).toBeGreaterThanOrEqual(0);
    // nothing deleted, nothing created
    expect((await readPod(name)).metadata?.uid).toBe(pod.metadata?.uid);
    expect(trace.milestones.some((x) => x.id.startsWith('teardown.'))).toBe(false);
    expect(trace.run.complete).toBe(true);
  });

  it('once the events are gone (as a day later): times from status fields, to the second, and the trace says so', async () => {
    const name = await startedElsewhere('inspect-old', 'nginx', true);
    const { core } = clients();
    await core.deleteCollectionNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.name=${name}` });
    const { code, trace } = await inspect(name, 'inspect-no-events');
    expect(code).toBe(EXIT.ok);
    expect(trace.outcome.class).toBe('ready');
    expect(trace.run.complete).toBe(false);
    expect(trace.run.incomplete).toContain(
      'no kubelet events left for this pod (the API server keeps events 1 h by default): times come from its status, to the second',
    );
    const m = byId(trace);
    expect(m.get('container.main.started')!.precisionMs).toBeGreaterThanOrEqual(1000);
    expect(m.get('pod.ready')!.precisionMs).toBeGreaterThanOrEqual(1000);
  });

  it('a crash-looping pod: the failure, its exit code, and the restarts noted', async () => {
    const name = await startedElsewhere('inspect-crash', 'podtrace/crash', false);
    const { code, trace } = await inspect(name, 'inspect-crash');
    expect(trace.outcome.class).toBe('crash-loop');
    expect(code).toBe(EXIT.crashLoop);
    expect(trace.run.incomplete?.some((r) => /^container main restarted \d+ time\(s\)/.test(r))).toBe(true);
  });

  it('a pod that does not exist: one line, exit 9', async () => {
    const result = await runPodtrace(['inspect', 'podtrace-no-such-pod', '-n', NAMESPACE, '--kubeconfig', kubeconfigPath()], cwd);
    expect(result.code).toBe(EXIT.podNotFound);
    expect(result.stderr).toBe(
      `podtrace: pod "podtrace-no-such-pod" not found in namespace "${NAMESPACE}" on ${serverOf(kubeconfigPath())}: check the name (kubectl get pods -n ${NAMESPACE})\n`,
    );
    expect(result.stdout).toBe('');
  });
});
