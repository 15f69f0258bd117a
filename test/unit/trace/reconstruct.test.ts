import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/exit-codes.js';
import { buildContext } from '../../../src/trace/context.js';
import { PRECISION_MS } from '../../../src/trace/event-time.js';
import { milestoneTable } from '../../../src/trace/milestones.js';
import type { Observation } from '../../../src/trace/observation.js';
import { isTerminalFailure } from '../../../src/trace/outcome.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { renderTable } from '../../../src/report/table.js';
import { parseRecording } from '../../../src/trace/recording.js';
import type { Milestone, Trace } from '../../../src/trace/types.js';
import { fixtureRecordings, FIXTURE_DIR, loadFixture } from './recording-files.js';
import { schemaErrors } from './schema-validator.js';

const recordings = fixtureRecordings();

describe('fixture recordings', () => {
  it(`has real recordings in ${FIXTURE_DIR}, each named after the outcome it must reconstruct to`, () => {
    expect(recordings.length).toBeGreaterThan(0);
    for (const r of recordings) expect(r.expected, `${r.name}: no outcome class prefix`).toBeDefined();
  });
});

/** Invariants every trace must satisfy, complete or partial. */
function checkInvariants(trace: Trace, tableOrder: string[]): void {
  const ids = trace.milestones.map((m) => m.id);
  expect(ids.every((id) => tableOrder.includes(id)), `unknown milestone ids: ${ids}`).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  // Time order; equal times keep the table's order.
  for (let i = 1; i < trace.milestones.length; i++) {
    const [a, b] = [trace.milestones[i - 1]!, trace.milestones[i]!];
    const inOrder = a.at < b.at || (a.at === b.at && tableOrder.indexOf(a.id) < tableOrder.indexOf(b.id));
    expect(inOrder, `${a.id} (${a.offsetMs}) listed before ${b.id} (${b.offsetMs})`).toBe(true);
  }

  const byId = new Map(trace.milestones.map((m) => [m.id, m]));
  for (const m of trace.milestones) {
    expect(Object.keys(PRECISION_MS)).toContain(m.source);
    expect(m.precisionMs).toBeGreaterThan(0);
    expect(Number.isFinite(m.at)).toBe(true);
    expect(m.offsetMs).toBeCloseTo(m.at - trace.run.t0, 2);
    if (m.source === 'bounded-by') {
      const by = byId.get(m.boundedBy ?? '');
      expect(by, `${m.id} bounded by a milestone not in the trace`).toBeDefined();
      expect(m.at).toBeLessThanOrEqual(by!.at + by!.precisionMs);
      expect(m.detail).toContain(by!.id);
    } else {
      expect(m.boundedBy).toBeUndefined();
    }
  }

  // Steps follow time order: never negative, never clamped; each is the interval between two consecutive milestones.
  for (const p of trace.phases) {
    expect(p.durationMs).toBeGreaterThanOrEqual(0);
    expect(p.clamped).toBeUndefined();
    if (p.kind !== 'step') continue;
    const from = byId.get(p.from ?? '');
    const to = byId.get(p.to ?? '');
    expect(from && to, `step ${p.id} between milestones of the trace`).toBeTruthy();
    expect(ids.indexOf(to!.id)).toBe(ids.indexOf(from!.id) + 1);
    expect(p.durationMs).toBeCloseTo(to!.at - from!.at, 2);
    expect(p.startOffsetMs).toBeCloseTo(from!.offsetMs, 2);
  }
  expect(trace.phases.filter((p) => p.kind === 'step')).toHaveLength(Math.max(0, trace.milestones.length - 1));
  for (const a of trace.anomalies) expect(a.explanation.length).toBeGreaterThan(0);

  expect(schemaErrors(trace)).toEqual([]);
  if (trace.outcome.class === 'in-progress') expect(trace.outcome.exitCode).toBeNull();
  else expect(typeof trace.outcome.exitCode).toBe('number');
}

function tableOf(header: Parameters<typeof reconstruct>[0], observations: readonly Observation[]): string[] {
  return milestoneTable(buildContext(header, observations)).map((s) => s.id);
}

describe.each(recordings.map((r) => [r.name, r] as const))('reconstruct(%s)', (_name, file) => {
  const { header, observations } = parseRecording(file.text);
  const trace = reconstruct(header, observations);

  it('satisfies the trace invariants', () => {
    checkInvariants(trace, tableOf(header, observations));
  });

  it(`classifies the outcome as ${file.expected}`, () => {
    expect(trace.run.final).toBe(true);
    expect(trace.outcome.class).toBe(file.expected);
  });

  it('has no causal inversion (one host, one clock): coarse times are bounded, not clamped', () => {
    expect(trace.anomalies.filter((a) => a.kind === 'negative-duration')).toEqual([]);
  });

  it('is deterministic', () => {
    expect(reconstruct(header, observations)).toEqual(trace);
  });

  it('never carries credentials', () => {
    const text = JSON.stringify(trace);
    expect(text).not.toMatch(/"(token|password|client-key-data|client-certificate-data|certificate-authority-data)"\s*:/i);
  });

  it('works on partial observation lists (progress display)', () => {
    const cuts = new Set<number>([0, 1, observations.length - 1]);
    const step = Math.max(1, Math.floor(observations.length / 20));
    for (let n = step; n < observations.length; n += step) cuts.add(n);
    const finalIds = new Set(trace.milestones.map((m) => m.id));
    for (const n of [...cuts].sort((a, b) => a - b)) {
      const partial = reconstruct(header, observations.slice(0, n));
      checkInvariants(partial, tableOf(header, observations.slice(0, n)));
      // Until the run ends the outcome is in progress, except that Ready, once seen, is the result.
      if (!partial.run.final) expect(['in-progress', 'ready']).toContain(partial.outcome.class);
      if (partial.outcome.class === 'ready') expect(partial.milestones.some((m) => m.id === 'pod.ready')).toBe(true);
      // Later observations can improve a milestone's source, never take the milestone away.
      for (const m of partial.milestones) expect(finalIds.has(m.id), `${m.id} reached at ${n} but not in the end`).toBe(true);
    }
  });
});

function milestones(trace: Trace): Map<string, Milestone> {
  return new Map(trace.milestones.map((m) => [m.id, m]));
}

function postSentAt(observations: readonly Observation[]): number {
  return observations.find((o) => o.source === 'client' && o.type === 'post-sent')!.observedAt;
}

/** The first prefix of the recording whose trace isTerminalFailure() accepts, or -1. */
function firstTerminal(header: Parameters<typeof reconstruct>[0], observations: readonly Observation[]): number {
  return observations.findIndex((_, i) => isTerminalFailure(reconstruct(header, observations.slice(0, i + 1))));
}

function reasonOf(o: Observation): string | undefined {
  return (o.object as { reason?: string } | undefined)?.reason;
}

describe('ready-nginx (real recording)', () => {
  const { header, observations } = loadFixture('ready-nginx.ndjson');
  const trace = reconstruct(header, observations);
  const byId = milestones(trace);

  it('times each step from the best source and puts kubelet numbers beside them', () => {
    expect(byId.get('api.post-sent')!.offsetMs).toBe(0);
    expect(byId.get('scheduler.scheduled')).toMatchObject({ source: 'event-name-ns', detail: 'node podtrace-node' });
    expect(byId.get('container.nginx.pulled')!.source).toBe('event-name-ns');
    expect(byId.get('pod.ready')!.source).toBe('watch-observed');
    expect(byId.has('pod.initialized')).toBe(false); // no init containers: Initialized carries no timing
    expect(trace.clock.method).toBe('zero-within-bounds');
    expect(trace.containers[0]).toMatchObject({ name: 'nginx', pull: 'pulled', pullMs: 27, pullIncludingWaitingMs: 28, imageSizeBytes: 58049901 });
    expect(trace.phases.find((p) => p.id === 'container.nginx.pull-reported')?.durationMs).toBe(27);
    expect(trace.admission.changes.map((c) => c.path)).toEqual(
      expect.arrayContaining(['spec.containers[0].imagePullPolicy', 'spec.tolerations', 'spec.volumes']),
    );
    expect(trace.admission.changes.some((c) => c.path.startsWith('metadata.uid') || c.path.startsWith('status'))).toBe(false);
    expect(trace.node?.kubeletVersion).toBe('v1.34.12');
    expect(trace.outcome).toMatchObject({ class: 'ready', exitCode: EXIT.ok });
    expect(trace.outcome.readyAfterMs).toBeCloseTo(byId.get('pod.ready')!.offsetMs, 6);
  });

  it('keeps the stored pod’s uid, resourceVersion and creationTimestamp from the POST response', () => {
    const stored = observations.find((o) => o.type === 'post-response')!.data!.pod as { metadata: Record<string, string> };
    expect(trace.pod).toMatchObject({
      uid: stored.metadata.uid,
      resourceVersion: stored.metadata.resourceVersion,
      creationTimestamp: stored.metadata.creationTimestamp,
    });
    expect(trace.pod.uid).toMatch(/^[0-9a-f-]{36}$/);
    // the kubelet's acknowledgement is read from status.startTime
    expect(byId.get('kubelet.acknowledged')!.evidence).toMatch(/status\.startTime/);
  });

  it('records a node condition that changes during the run (the real node object, then NotReady)', () => {
    const last = observations.filter((o) => o.source === 'node').at(-1)!;
    const node = structuredClone(last.object) as { status: { conditions: Array<{ type: string; status: string; reason?: string }> } };
    const ready = node.status.conditions.find((c) => c.type === 'Ready')!;
    ready.status = 'False';
    ready.reason = 'KubeletNotReady';
    const at = observations.at(-1)!.observedAt + 10;
    const changed = reconstruct(header, [...observations, { ...last, seq: observations.at(-1)!.seq + 1, type: 'MODIFIED', observedAt: at, object: node }]);
    expect(changed.node!.conditionsAtStart).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    expect(changed.node!.conditionChanges).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'False', previousStatus: 'True', reason: 'KubeletNotReady', at }),
    ]);
  });

  it('keeps the POST round trip (send to response) as its own reported step, apart from "stored"', () => {
    const sent = observations.find((o) => o.type === 'post-sent')!.observedAt;
    const answered = observations.find((o) => o.type === 'post-response')!.observedAt;
    const roundTrip = trace.phases.find((p) => p.id === 'api.post-round-trip');
    expect(roundTrip).toMatchObject({ kind: 'reported', component: 'client', startOffsetMs: 0 });
    expect(roundTrip!.label).toBe('POST → 201 response (client-measured)');
    expect(roundTrip!.durationMs).toBeCloseTo(answered - sent, 2);
    expect(roundTrip!.durationMs).toBeGreaterThan(0);
    // "stored" is the earlier of the response and the first watch sighting: never after the response
    expect(byId.get('api.accepted')!.offsetMs).toBeLessThanOrEqual(roundTrip!.durationMs + 0.001);
  });

  it('bounds the watch-observed sandbox by the kubelet Pulling event that must follow it', () => {
    // The kubelet posts status in batches: the watch saw PodReadyToStartContainers only with Ready.
    const sandbox = byId.get('runtime.sandbox-ready')!;
    const pulling = byId.get('container.nginx.pulling')!;
    const scheduled = byId.get('scheduler.scheduled')!;
    type Conditions = { status?: { conditions?: Array<{ type: string; status: string }> } };
    const sandboxSeen = observations.find(
      (o) => o.source === 'pod' && (o.object as Conditions).status?.conditions?.some((c) => c.type === 'PodReadyToStartContainers' && c.status === 'True'),
    )!;
    expect(sandboxSeen.observedAt).toBeGreaterThan(pulling.at + 300);
    expect(sandbox).toMatchObject({ source: 'bounded-by', boundedBy: 'container.nginx.pulling', at: pulling.at });
    // From its lower bound to the bound. The binding is only known to come after the POST: the
    // scheduler stamps its Scheduled event once the bind call returned, and the kubelet may start before.
    expect(scheduled.at).toBeGreaterThan(trace.run.t0);
    expect(sandbox.precisionMs).toBeCloseTo(pulling.at - trace.run.t0, 3);
    expect(sandbox.evidence).toMatch(/^pod MODIFIED/);
    expect(sandbox.detail).toMatch(/podIP 198\.18\.0\.10; before container\.nginx\.pulling .*said \+866ms/);
    expect(trace.phases.find((p) => p.to === 'container.nginx.pulling')?.durationMs).toBe(0);
  });

  it('lists milestones in time order, the container ready after it started', () => {
    const ids = trace.milestones.map((m) => m.id);
    expect(ids.indexOf('client.may-delete')).toBeLessThan(ids.indexOf('client.authorized')); // the delete review answered first
    expect(ids.slice(ids.indexOf('runtime.sandbox-ready'), ids.indexOf('pod.ready') + 1)).toEqual([
      'runtime.sandbox-ready',
      'container.nginx.pulling',
      'container.nginx.pulled',
      'container.nginx.created',
      'container.nginx.started',
      'container.nginx.ready',
      'pod.containers-ready',
      'pod.ready',
    ]);
    expect(byId.get('container.nginx.ready')!.at).toBeGreaterThanOrEqual(byId.get('container.nginx.started')!.at);
  });

  it('keeps a real inversion between precise sources as an anomaly (kubelet clock 200 ms behind)', () => {
    const shift = (name: string, ms: number) => {
      const ns = BigInt(`0x${name.slice(name.lastIndexOf('.') + 1)}`) - BigInt(ms * 1e6);
      return `${name.slice(0, name.lastIndexOf('.'))}.${ns.toString(16)}`;
    };
    const skewed = observations.map((o) => {
      if ((o.source !== 'event' && o.source !== 'eventsv1') || reasonOf(o) !== 'Pulling') return o;
      const e = structuredClone(o.object) as { metadata: { name: string } };
      e.metadata.name = shift(e.metadata.name, 600); // Pulling now before the POST
      return { ...o, object: e };
    });
    const t = reconstruct(header, skewed);
    const inversions = t.anomalies.filter((a) => a.kind === 'negative-duration');
    expect(inversions.length).toBeGreaterThan(0);
    expect(inversions.some((a) => a.phase?.endsWith('->container.nginx.pulling'))).toBe(true);
    expect(t.phases.every((p) => p.durationMs >= 0)).toBe(true);
    // never silently: the printed table says so too
    expect(renderTable(t, { color: false, width: 200 })).toMatch(/^! negative-duration: /m);
  });

  it('picks the create review for "may create pods" although the delete review answered first', () => {
    const create = observations.find((o) => o.type === 'access-review' && o.data?.verb === 'create')!;
    const del = observations.find((o) => o.type === 'access-review' && o.data?.verb === 'delete')!;
    expect(del.seq).toBeLessThan(create.seq);
    expect(byId.get('client.authorized')).toMatchObject({ at: create.observedAt, detail: 'create pods: allowed' });
    expect(byId.get('client.may-delete')).toMatchObject({ at: del.observedAt, detail: 'delete pods: allowed' });
  });
});

describe('crash-loop-crash (real recording)', () => {
  const { header, observations } = loadFixture('crash-loop-crash.ndjson');
  const trace = reconstruct(header, observations);
  const deleteAt = observations.find((o) => o.type === 'delete-sent')!.observedAt;

  it('is a crash loop, not the Failed pod the DELETE left behind', () => {
    const lastPod = [...observations].reverse().find((o) => o.source === 'pod')!;
    expect((lastPod.object as { status: { phase: string } }).status.phase).toBe('Failed');
    expect(trace.outcome).toMatchObject({ class: 'crash-loop', reason: 'CrashLoopBackOff', exitCode: EXIT.crashLoop });
    expect(trace.outcome.message).toContain('last exit code 1 (Error)');
    // Not read from the CLI's `done` hint: the observations alone say so.
    const withoutHint = observations.map((o) => (o.type === 'done' ? { ...o, data: { reason: 'failed' } } : o));
    expect(reconstruct(header, withoutHint).outcome.class).toBe('crash-loop');
  });

  it('counts the restarts and keeps the last termination from before the teardown wiped lastState', () => {
    expect(trace.containers[0]).toMatchObject({
      name: 'crash',
      restarts: 1,
      state: 'waiting',
      waiting: { reason: 'CrashLoopBackOff' },
      lastTermination: { exitCode: 1, reason: 'Error' },
    });
    expect(trace.pod.phase).toBe('Running');
    const byId = milestones(trace);
    expect(byId.get('container.crash.exited')?.detail).toBe('exit code 1 (Error)');
    // The kubelet's BackOff event times the back-off, a second before the status says CrashLoopBackOff.
    expect(byId.get('container.crash.crash-loop-back-off')).toMatchObject({ source: 'event-name-ns' });
    expect(byId.get('container.crash.crash-loop-back-off')!.at).toBeLessThan(deleteAt - 900);
    // The container had exited long before the DELETE: its old finishedAt does not time the teardown.
    expect(byId.get('teardown.containers-terminated')!.at).toBeGreaterThan(deleteAt);
    expect(trace.anomalies.filter((a) => a.milestone?.startsWith('teardown.'))).toEqual([]);
  });

  it('is terminal at the kubelet BackOff event, before the status says CrashLoopBackOff', () => {
    const i = firstTerminal(header, observations);
    expect(reasonOf(observations[i]!)).toBe('BackOff');
    const statusSaysSo = observations.findIndex((o) => o.source === 'pod' && JSON.stringify(o.object).includes('"reason":"CrashLoopBackOff"'));
    expect(i).toBeLessThan(statusSaysSo);
    expect(reconstruct(header, observations.slice(0, i + 1)).outcome.suspected).toMatchObject({ class: 'crash-loop', terminal: true, exitCode: EXIT.crashLoop });
  });
});

describe('image-pull-not-found-doesnotexist (real recording)', () => {
  const { header, observations } = loadFixture('image-pull-not-found-doesnotexist.ndjson');
  const trace = reconstruct(header, observations);
  const t0 = postSentAt(observations);

  it('is image-pull-not-found, not the Failed pod the DELETE left behind', () => {
    const lastPod = [...observations].reverse().find((o) => o.source === 'pod')!;
    expect((lastPod.object as { status: { phase: string } }).status.phase).toBe('Failed');
    expect(trace.outcome).toMatchObject({ class: 'image-pull-not-found', exitCode: EXIT.imagePullNotFound, phase: 'container.doesnotexist-xyz.pulled' });
    expect(trace.outcome.message).toMatch(/code = NotFound/);
    expect(trace.containers[0]).toMatchObject({ pull: 'failed', pullFailure: { kind: 'not-found' }, state: 'waiting' });
    const withoutHint = observations.map((o) => (o.type === 'done' ? { ...o, data: { reason: 'failed' } } : o));
    expect(reconstruct(header, withoutHint).outcome.class).toBe('image-pull-not-found');
  });

  it('is terminal from the kubelet events (~1.4 s), not only once the status says ImagePullBackOff (~14.6 s)', () => {
    const i = firstTerminal(header, observations);
    expect(i).toBeGreaterThan(0);
    const terminalAt = observations[i]!;
    expect(['BackOff', 'Failed']).toContain(reasonOf(terminalAt));
    expect(terminalAt.observedAt - t0).toBeLessThan(1500);
    const statusSaysSo = observations.find((o) => o.source === 'pod' && JSON.stringify(o.object).includes('"reason":"ImagePullBackOff"'))!;
    expect(statusSaysSo.observedAt - t0).toBeGreaterThan(10_000);

    const early = reconstruct(header, observations.slice(0, i + 1));
    expect(early.run.final).toBe(false);
    expect(early.outcome.suspected).toMatchObject({ class: 'image-pull-not-found', terminal: true, exitCode: EXIT.imagePullNotFound });

    // After the first "Failed to pull image" (not found) but before the back-off: suspected, not yet terminal.
    const failed = observations.findIndex((o) => reasonOf(o) === 'Failed');
    const first = reconstruct(header, observations.slice(0, failed + 1));
    expect(first.outcome.suspected).toMatchObject({ class: 'image-pull-not-found', terminal: false, reason: 'ErrImagePull' });
    expect(isTerminalFailure(first)).toBe(false);
  });

  it('times the failed pull and the back-off from the kubelet events', () => {
    const byId = milestones(trace);
    expect(byId.get('container.doesnotexist-xyz.pull-failed')).toMatchObject({ source: 'event-name-ns' });
    expect(byId.get('container.doesnotexist-xyz.pull-back-off')).toMatchObject({ source: 'event-name-ns' });
    expect(byId.get('container.doesnotexist-xyz.pull-back-off')!.offsetMs).toBeGreaterThan(1000);
    expect(byId.get('container.doesnotexist-xyz.pull-back-off')!.offsetMs).toBeLessThan(1500);
    expect(byId.get('runtime.sandbox-ready')).toMatchObject({ source: 'bounded-by', boundedBy: 'container.doesnotexist-xyz.pulling' });
  });
});

describe('image-pull-backoff-unreachable-registry (real recording)', () => {
  it('names the cause of a pull error that is neither not-found nor unauthorized in the failed pull milestone', () => {
    const trace = reconstruct(...parts(loadFixture('image-pull-backoff-unreachable-registry.ndjson')));
    const failed = trace.milestones.find((m) => m.id.endsWith('.pull-failed'))!;
    expect(failed.detail).toMatch(/^pull error: …dial tcp 127\.0\.0\.1:1: connect: connection refused(, \d+ attempts)?$/);
  });
});

describe('ready-slow-ready (real recording)', () => {
  const { header, observations } = loadFixture('ready-slow-ready.ndjson');
  const trace = reconstruct(header, observations);
  const byId = milestones(trace);

  it('is Ready after the container started, with the readiness probe failures the recording holds', () => {
    expect(trace.outcome).toMatchObject({ class: 'ready', exitCode: EXIT.ok });
    const started = byId.get('container.slow-ready.started')!;
    const ready = byId.get('container.slow-ready.ready')!;
    expect(started.source).toBe('event-name-ns');
    expect(ready.at).toBeGreaterThan(started.at);
    expect(trace.outcome.readyAfterMs).toBeCloseTo(byId.get('pod.ready')!.offsetMs, 6);
    // The probe asks for /ready, which slow-ready answers 503 for READY_AFTER seconds: the
    // kubelet reported Unhealthy, and the trace lists it before the container turned ready.
    const unhealthy = observations.filter((o) => reasonOf(o) === 'Unhealthy');
    expect(unhealthy.length).toBeGreaterThan(0);
    const kubeletCount = Math.max(...unhealthy.map((o) => Number((o.object as { count?: number }).count ?? 1)));
    const failures = trace.containers[0]!.probeFailures!;
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ probe: 'readiness', count: kubeletCount, source: 'event-name-ns' });
    expect(failures[0]!.message).toMatch(/Readiness probe failed: HTTP probe failed with statuscode: 503/);
    expect(byId.get('container.slow-ready.readiness-failed')!.at).toBeLessThan(ready.at);
  });
});

describe('unschedulable-node-selector (real recording)', () => {
  const { header, observations } = loadFixture('unschedulable-node-selector.ndjson');
  const trace = reconstruct(header, observations);

  it('lists every FailedScheduling message with its time', () => {
    const events = new Map<string, { message: string }>();
    for (const o of observations) {
      if (reasonOf(o) !== 'FailedScheduling') continue;
      const e = o.object as { metadata: { uid: string }; message?: string; note?: string };
      events.set(e.metadata.uid, { message: e.message ?? e.note ?? '' });
    }
    expect(events.size).toBeGreaterThan(0);
    expect(trace.scheduling.attempts.map((a) => a.message).sort()).toEqual([...events.values()].map((e) => e.message).sort());
    for (const a of trace.scheduling.attempts) {
      expect(a).toMatchObject({ reason: 'FailedScheduling', source: 'event-name-ns' });
      expect(a.offsetMs).toBeGreaterThan(0);
      expect(a.offsetMs).toBeLessThan(1000);
      expect(a.message).toMatch(/didn't match Pod's node affinity\/selector/);
    }
    expect(trace.outcome).toMatchObject({ class: 'unschedulable', reason: 'Unschedulable', exitCode: EXIT.unschedulable, phase: 'scheduler.scheduled' });
    expect(trace.outcome.message).toBe(trace.scheduling.attempts.at(-1)!.message);
  });

  it('bounds "stored" by the scheduler attempt that must follow it', () => {
    const byId = milestones(trace);
    const failed = byId.get('scheduler.failed-scheduling')!;
    expect(byId.get('api.accepted')).toMatchObject({ source: 'bounded-by', boundedBy: 'scheduler.failed-scheduling', at: failed.at });
    expect(byId.get('api.accepted')!.precisionMs).toBeCloseTo(failed.offsetMs, 3); // from the POST to the attempt
  });
});

describe('validation-rejected-invalid (real recording)', () => {
  const { header, observations } = loadFixture('validation-rejected-invalid.ndjson');
  const trace = reconstruct(header, observations);

  it("carries the server's 422 message", () => {
    const err = observations.find((o) => o.type === 'post-error')!;
    expect(err.data?.status).toBe(422);
    expect(trace.outcome).toMatchObject({
      class: 'validation-rejected',
      reason: 'Invalid',
      exitCode: EXIT.validationRejected,
      phase: 'api.accepted',
      message: err.data?.message,
    });
    expect(trace.outcome.message).toContain('must be less than or equal to cpu limit of 1');
    expect(trace.admission).toMatchObject({ status: 'rejected', rejection: { status: 422, reason: 'Invalid', message: err.data?.message } });
    expect(isTerminalFailure(trace)).toBe(true);
    expect(trace.milestones.at(-1)!.id).toBe('api.post-sent');
    const roundTrip = trace.phases.find((p) => p.id === 'api.post-round-trip')!;
    expect(roundTrip.label).toBe('POST → 422 response (client-measured)');
    expect(roundTrip.durationMs).toBeCloseTo(err.observedAt - observations.find((o) => o.type === 'post-sent')!.observedAt, 2);
  });
});

describe('ready-big-kubelet-restart (real recording: the kubelet restarted while the pod started)', () => {
  const { header, observations } = loadFixture('ready-big-kubelet-restart.ndjson');
  const trace = reconstruct(header, observations);

  it('completes, and records the restart from the node’s events of the run only', () => {
    expect(trace.outcome.class).toBe('ready');
    const starting = trace.node!.events!.filter((e) => e.reason === 'Starting' && e.component === 'kubelet');
    // the node watch's first list also returns Starting events of earlier restarts: not ours
    expect(starting).toHaveLength(1);
    expect(starting[0]!.at).toBeGreaterThanOrEqual(trace.run.startedAt);
    expect(trace.anomalies.filter((a) => a.kind === 'kubelet-restarted')).toHaveLength(1);
    expect(schemaErrors(trace)).toEqual([]);
  });
});

describe('ready-big-apiserver-restart (real recording: the API server restarted while the pod started)', () => {
  const { header, observations } = loadFixture('ready-big-apiserver-restart.ndjson');
  const trace = reconstruct(header, observations);

  it('completes, with each watch’s gap and the 410 relists', () => {
    expect(trace.outcome.class).toBe('ready');
    const watches = new Set(trace.gaps.map((g) => g.watch));
    for (const w of ['pod', 'event', 'eventsv1', 'node']) expect(watches).toContain(w);
    expect(trace.gaps.some((g) => g.reason === '410-gone')).toBe(true);
    for (const g of trace.gaps) expect(g.to).toBeGreaterThanOrEqual(g.from);
    expect(trace.milestones.map((m) => m.id)).toContain('container.big.started');
  });
});

describe('complete and incomplete traces (real recordings)', () => {
  it('a run that saw everything is complete, even with watch gaps it recovered from', () => {
    const trace = reconstruct(...parts(loadFixture('ready-cut-streams.ndjson')));
    expect(trace.gaps.length).toBeGreaterThan(0);
    expect(trace.gaps.every((g) => g.unresolved === undefined)).toBe(true);
    expect(trace.run.complete).toBe(true);
    expect(trace.run.incomplete).toBeUndefined();
    expect(reconstruct(...parts(loadFixture('ready-nginx.ndjson'))).run.complete).toBe(true);
  });

  it('the API server unreachable until --timeout: incomplete, saying why, watches unresolved', () => {
    const trace = reconstruct(...parts(loadFixture('timeout-apiserver-unreachable.ndjson')));
    expect(trace.run.complete).toBe(false);
    const reasons = trace.run.incomplete!;
    expect(reasons[0]).toMatch(/^gave up after --timeout 12(\.0)?s before the pod was Ready$/);
    expect(reasons.filter((r) => /^watch \S+ lost at \+[\d.]+m?s and not back when the run ended/.test(r)).length).toBe(
      trace.gaps.filter((g) => g.unresolved).length,
    );
    expect(trace.gaps.find((g) => g.watch === 'pod')!.unresolved).toBe(true);
    expect(reasons.at(-1)).toMatch(/^the pod could not be deleted \(cannot reach the API server/);
    expect(schemaErrors(trace)).toEqual([]);
  });

  it('a timeout with the cluster reachable is incomplete for the timeout only', () => {
    const trace = reconstruct(...parts(loadFixture('timeout-big.ndjson')));
    expect(trace.run.incomplete).toEqual([expect.stringMatching(/^gave up after --timeout /)]);
  });

  it('a recording cut before the run ended is incomplete', () => {
    const { header, observations } = loadFixture('ready-nginx.ndjson');
    const cut = observations.slice(0, Math.floor(observations.length / 2));
    expect(reconstruct(header, cut).run.incomplete).toContain('the recording ends before the run did');
  });
});

function parts(r: { header: Parameters<typeof reconstruct>[0]; observations: Parameters<typeof reconstruct>[1] }) {
  return [r.header, r.observations] as const;
}

describe('admission-rejected-vap (real recording: a ValidatingAdmissionPolicy answers 422)', () => {
  const trace = reconstruct(...parts(loadFixture('admission-rejected-vap.ndjson')));

  it('is an admission rejection naming the policy and binding, not a validation error', () => {
    expect(trace.outcome.class).toBe('admission-rejected');
    expect(trace.outcome.exitCode).toBe(EXIT.admissionRejected);
    expect(trace.outcome.hint).toMatch(/^denied by ValidatingAdmissionPolicy "podtrace-e2e-allowed-registry" \(binding "podtrace-e2e-allowed-registry"\)/);
    expect(trace.admission.status).toBe('rejected');
    expect(trace.milestones.map((m) => m.id)).not.toContain('scheduler.scheduled');
  });
});

describe('podtrace inspect recordings (a pod podtrace did not create, read once)', () => {
  it('ready-inspect: t0 is the creation second, nothing is timed from the moment podtrace looked, no client steps', () => {
    const { header, observations } = loadFixture('ready-inspect.ndjson');
    const trace = reconstruct(header, observations);
    expect(trace.run.mode).toBe('inspect');
    expect(trace.run.t0Source).toBe('pod-created');
    expect(trace.outcome.class).toBe('ready');
    expect(trace.milestones.filter((m) => m.source === 'watch-observed' || m.component === 'client')).toEqual([]);
    // the kubelet's events are still there: their names time the container steps below the second
    expect(trace.milestones.find((m) => m.id.endsWith('.started'))!.precisionMs).toBeLessThan(1000);
    expect(trace.run.complete).toBe(true);
    // without the inspect flag the same observations would be timed from when podtrace looked
    const asIfWatched = reconstruct({ ...header, options: { ...header.options, inspect: false } }, observations);
    expect(asIfWatched.run.t0Source).toBe('run-start');
  });

  it('ready-inspect-no-events: status times to the second, and the trace says why', () => {
    const trace = reconstruct(...parts(loadFixture('ready-inspect-no-events.ndjson')));
    expect(trace.run.incomplete).toEqual([
      'no kubelet events left for this pod (the API server keeps events 1 h by default): times come from its status, to the second',
    ]);
    for (const m of trace.milestones) expect(m.precisionMs, m.id).toBeGreaterThanOrEqual(1000);
  });

  it('crash-loop-inspect-crash: the failure and its code, and the restart noted', () => {
    const trace = reconstruct(...parts(loadFixture('crash-loop-inspect-crash.ndjson')));
    expect(trace.outcome.exitCode).toBe(EXIT.crashLoop);
    expect(trace.run.incomplete).toContainEqual(expect.stringMatching(/^container main restarted \d+ time\(s\): its start and ready times are the latest start's$/));
  });
});

describe('ready-expose (real recording: create --expose 80)', () => {
  const trace = reconstruct(...parts(loadFixture('ready-expose.ndjson')));

  it('times the Service, the endpoint and its readiness after the pod is Ready, and keeps the endpoint seen before the teardown', () => {
    const ids = trace.milestones.map((m) => m.id);
    expect(ids.indexOf('service.endpoint-ready')).toBeGreaterThan(ids.indexOf('pod.ready'));
    expect(ids.indexOf('service.endpoint-added')).toBeGreaterThan(ids.indexOf('service.created'));
    expect(trace.service).toMatchObject({ port: 80, clusterDns: 'absent', endpoint: { address: trace.pod.podIP, ready: true } });
  });

  it('without the expose option the Service rows are not in the table', () => {
    const { header, observations } = loadFixture('ready-expose.ndjson');
    const { expose: _expose, ...options } = header.options;
    const plain = reconstruct({ ...header, options }, observations);
    expect(plain.milestones.filter((m) => m.id.startsWith('service.'))).toEqual([]);
    expect(plain.service).toBeUndefined();
  });
});

describe('ready-expose-reach (real recording: create --expose 80 on the two-node cluster with kube-proxy and CoreDNS)', () => {
  const { header, observations } = loadFixture('ready-expose-reach.ndjson');
  const trace = reconstruct(header, observations);
  const at = (id: string) => trace.milestones.find((m) => m.id === id)!;

  it('times the route and the name from the tries, between the last that failed and the first that worked', () => {
    const tries = observations.filter((o) => o.type === 'service-reach').map((o) => o.data!);
    const route = tries.find((d) => d.what === 'route')!;
    expect(route).toMatchObject({ vantage: 'client', ok: true });
    const routed = at('service.routed');
    expect(routed).toMatchObject({ component: 'kube-proxy', source: 'client-clock' });
    // the middle of the interval, half its width: derived from the recorded tries, not a constant
    const from = route.previousAttemptAt as number;
    const to = route.attemptAt as number;
    expect(routed.precisionMs).toBeCloseTo((to - from) / 2, 6);
    expect(routed.at).toBeCloseTo((to + from) / 2, 6);
    expect(routed.detail).toBe(`from podtrace's machine: ${String(route.target)}`);
    // kube-proxy programs the endpoint after the EndpointSlice says it is ready
    expect(routed.at - routed.precisionMs).toBeGreaterThan(at('service.endpoint-ready').at - at('service.endpoint-ready').precisionMs);
    const dns = at('service.dns');
    expect(dns).toMatchObject({ component: 'dns', source: 'client-clock' });
    expect(dns.at).toBeGreaterThanOrEqual(at('service.created').at - at('service.created').precisionMs);
  });

  it("lists both tries in the Service's section, and the notes say where they were made from", () => {
    expect(trace.service!.reach).toEqual([
      expect.objectContaining({ vantage: 'client', what: 'dns', ok: true }),
      expect.objectContaining({ vantage: 'client', what: 'route', ok: true }),
    ]);
    expect(trace.service!.clusterDns).toBe('found');
  });
});

describe('ready-expose-pod-reach (real recording: create --expose 80 with the probe pod, from podtrace\'s machine and from a pod on the other node)', () => {
  const { header, observations } = loadFixture('ready-expose-pod-reach.ndjson');
  const trace = reconstruct(header, observations);
  const at = (id: string) => trace.milestones.find((m) => m.id === id)!;
  const fromPod = (what: string) => observations.find((o) => o.type === 'service-reach' && o.data?.vantage === 'pod' && o.data?.what === what)!.data!;

  it("times the route from the probe's tries on its node's clock: between its last failed try and its first good one", () => {
    const route = fromPod('route');
    const routed = at('service.pod-routed');
    expect(routed).toMatchObject({ component: 'kube-proxy', source: 'probe-clock' });
    const from = route.previousAttemptAt as number;
    const to = route.attemptAt as number;
    expect(routed.precisionMs).toBeCloseTo((to - from) / 2, 6);
    // one host: the offset is 0 and the node's time is the client's
    expect(trace.clock.estimateMs).toBe(0);
    expect(routed.at).toBeCloseTo((to + from) / 2, 6);
    expect(routed.detail).toBe(`from a pod on ${String(route.node)}: ${String(route.target)}`);
    expect(routed.evidence).toContain(`(${String(route.node)}'s clock)`);
  });

  it("a name that already resolved at the probe's first try: between the Service's creation and that try, not a made-up precision", () => {
    const dns = fromPod('dns');
    expect(dns.previousAttemptAt).toBeUndefined();
    const resolved = at('service.pod-dns');
    const created = at('service.created').at;
    expect(resolved.precisionMs).toBeCloseTo(((dns.attemptAt as number) - created) / 2, 3);
    expect(resolved.at - resolved.precisionMs).toBeCloseTo(created, 3);
    expect(trace.service!.reach!.find((r) => r.vantage === 'pod' && r.what === 'dns')).toMatchObject({ ok: true, firstTry: true });
  });

  it('names each vantage in the section, the probe\'s with its node, and no probe error', () => {
    const node = String(fromPod('route').node);
    expect(trace.service!.reach!.map((r) => [r.vantage, r.what, r.node])).toEqual([
      ['client', 'dns', undefined],
      ['client', 'route', undefined],
      ['pod', 'dns', node],
      ['pod', 'route', node],
    ]);
    expect(trace.service!.probe).toBeUndefined();
  });

  it("the probe's own POST and DELETE are not the traced pod's", () => {
    const calls = observations.filter((o) => o.type === 'request-traced').map((o) => o.data!.call);
    expect(calls.filter((c) => c === 'createPod')).toHaveLength(1);
    expect(calls).toContain('createReachPod');
  });

  it('an older recording (no reachFrom, client tries only) has no probe rows', () => {
    const old = reconstruct(...parts(loadFixture('ready-expose-reach.ndjson')));
    expect(old.milestones.map((m) => m.id).filter((id) => id.startsWith('service.pod-'))).toEqual([]);
  });
});

describe('ready-expose-noprobe (real recording: --expose with a probe image the nodes cannot pull)', () => {
  const trace = reconstruct(...parts(loadFixture('ready-expose-noprobe.ndjson')));

  it('the pod is ready, the client tried as usual, and the section says why the cluster gave no answer', () => {
    expect(trace.outcome.class).toBe('ready');
    expect(trace.service!.reach!.every((r) => r.vantage === 'client')).toBe(true);
    expect(trace.service!.probe).toMatchObject({ image: 'podtrace/no-such-reach:1', node: expect.stringMatching(/^podtrace-/) });
    expect(trace.service!.probe!.error).toMatch(/^ErrImagePull: /);
    expect(trace.milestones.map((m) => m.id).filter((id) => id.startsWith('service.pod-'))).toEqual([]);
  });
});

describe('ready-expose-nodns (real recording: create --expose 80 with CoreDNS scaled to 0)', () => {
  const trace = reconstruct(...parts(loadFixture('ready-expose-nodns.ndjson')));

  it('the name never resolved: no step, and the section says how many tries and the last error', () => {
    expect(trace.milestones.map((m) => m.id)).not.toContain('service.dns');
    expect(trace.milestones.map((m) => m.id)).toContain('service.routed');
    const dns = trace.service!.reach!.find((r) => r.what === 'dns')!;
    expect(dns.ok).toBe(false);
    expect(dns.attempts).toBeGreaterThan(100);
    expect(dns.error).toBe('ECONNREFUSED');
  });
});

describe('ready-webhook (real recording: a mutating webhook added a label and an env var)', () => {
  const trace = reconstruct(...parts(loadFixture('ready-webhook.ndjson')));

  it('only the webhook fields are marked admission; the rest is the API server defaulting', () => {
    const byOrigin = (o: string) => trace.admission.changes.filter((c) => c.origin === o).map((c) => c.path);
    expect(byOrigin('admission')).toEqual(['metadata.labels["podtrace.dev/injected"]', 'spec.containers[0].env']);
    expect(byOrigin('defaulting').length).toBeGreaterThan(10);
  });

  it('in every other real recording (no webhook, no policy) every change is defaulting', () => {
    for (const r of recordings.filter((f) => !f.name.startsWith('ready-webhook'))) {
      const other = reconstruct(...parts(parseRecording(r.text)));
      expect(other.admission.changes.filter((c) => c.origin !== 'defaulting').map((c) => c.path), r.name).toEqual([]);
    }
  });

  it('the admission diff holds the webhook fields, with their values', () => {
    const byPath = new Map(trace.admission.changes.map((c) => [c.path, c]));
    expect(byPath.get('metadata.labels["podtrace.dev/injected"]')).toMatchObject({ op: 'added', after: 'yes' });
    expect(byPath.get('spec.containers[0].env')).toMatchObject({ op: 'added', after: [{ name: 'INJECTED_BY', value: 'podtrace-e2e-webhook' }] });
  });

  it('the POST step holds the webhook delay (400 ms)', () => {
    expect(trace.phases.find((p) => p.id === 'api.post-sent->api.accepted')!.durationMs).toBeGreaterThanOrEqual(400);
    expect(trace.phases.find((p) => p.id === 'api.post-round-trip')!.durationMs).toBeGreaterThanOrEqual(400);
  });
});

describe('forbidden-nobody (real recording: a ServiceAccount with no RBAC at all)', () => {
  const { header, observations } = loadFixture('forbidden-nobody.ndjson');
  const trace = reconstruct(header, observations);

  it('ends at the authorization step with the reviewer’s answer, before any POST', () => {
    expect(trace.outcome).toMatchObject({ class: 'forbidden', exitCode: EXIT.forbidden, phase: 'api.post-sent' }); // the milestone not reached
    expect(trace.outcome.message).toContain('system:serviceaccount:default:podtrace-e2e-nobody');
    expect(trace.milestones.some((m) => m.id === 'api.post-sent')).toBe(false);
    expect(trace.phases.some((p) => p.id === 'api.post-round-trip')).toBe(false);
    expect(trace.accessReviews.find((r) => r.verb === 'create')).toMatchObject({ allowed: false, resource: 'pods', namespace: 'default' });
    expect(trace.identity?.username).toBe('system:serviceaccount:default:podtrace-e2e-nobody');
    expect(trace.identity?.groups).toEqual(expect.arrayContaining(['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']));
    expect(trace.cluster).toMatchObject({ context: 'podtrace-e2e-nobody', cluster: 'c', user: 'podtrace-e2e-nobody', server: 'https://127.0.0.1:6443', authMethod: 'token' });
  });
});

describe('ready-multi (real recording: an init container, then two containers)', () => {
  const { header, observations } = loadFixture('ready-multi.ndjson');
  const trace = reconstruct(header, observations);
  const byId = milestones(trace);

  it('traces each container with its kind and pull policy, the init container first', () => {
    expect(trace.containers.map((c) => [c.name, c.kind])).toEqual([
      ['setup', 'init'],
      ['web', 'app'],
      ['probe', 'app'],
    ]);
    for (const c of trace.containers) expect(c.imagePullPolicy, c.name).toMatch(/^(Always|IfNotPresent|Never)$/);
    const completed = byId.get('init.setup.completed') ?? byId.get('container.setup.completed');
    expect(completed, 'the init container ran to completion').toBeDefined();
    for (const name of ['web', 'probe']) expect(byId.get(`container.${name}.started`)!.at).toBeGreaterThan(completed!.at);
    expect(byId.get('pod.initialized')!.at).toBeGreaterThanOrEqual(completed!.at);
  });
});

describe('ready-nginx-warm (real recording: the image already on the node)', () => {
  it('says "already present", with no pull step and no pull time', () => {
    const { header, observations } = loadFixture('ready-nginx-warm.ndjson');
    const trace = reconstruct(header, observations);
    expect(trace.containers[0]).toMatchObject({ name: 'nginx', pull: 'present' });
    expect(trace.containers[0]!.pullMs).toBeUndefined();
    expect(trace.milestones.map((m) => m.id)).toContain('container.nginx.image-present');
    expect(trace.milestones.map((m) => m.id)).not.toContain('container.nginx.pulling');
  });
});
