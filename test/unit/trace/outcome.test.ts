/**
 * Outcome classification. The failure runs here start from the synthetic
 * ready recording and diverge where a real failure would (same object
 * shapes, messages as the components write them); the fixture-driven tests
 * in reconstruct.test.ts cover real recordings end to end.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/exit-codes.js';
import type { Observation } from '../../../src/trace/observation.js';
import { classifyPostError, isTerminalFailure, settledFailure } from '../../../src/trace/outcome.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseRecording } from '../../../src/trace/recording.js';
import { schemaErrors } from './schema-validator.js';

const base = parseRecording(readFileSync(new URL('synthetic-ready-nginx.ndjson', import.meta.url), 'utf8'));
const { header } = base;
const uid = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';

type Pod = { metadata: Record<string, unknown>; spec: Record<string, unknown>; status: Record<string, unknown> };

/** Observations up to and including the first that matches. */
function until(test: (o: Observation) => boolean): Observation[] {
  const i = base.observations.findIndex(test);
  if (i < 0) throw new Error('no such observation in the base recording');
  return base.observations.slice(0, i + 1).map((o) => structuredClone(o));
}

function lastPod(obs: Observation[]): Pod {
  const o = [...obs].reverse().find((x) => x.source === 'pod');
  return structuredClone(o!.object) as Pod;
}

function continueWith(obs: Observation[], more: Array<Omit<Observation, 'seq' | 'observedAt'> & { after: number }>): Observation[] {
  const t = obs.at(-1)!.observedAt;
  return [...obs, ...more.map(({ after, ...o }, i) => ({ ...o, seq: obs.length + i, observedAt: t + after }))];
}

function kubeletEvent(reason: string, message: string, at: number, fieldPath = 'spec.containers{nginx}', count = 1) {
  const stamp = new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return {
    metadata: { name: `${header.podName}.${(BigInt(Math.round(at * 1000)) * 1000n).toString(16)}`, namespace: 'default', uid: `ev-${reason}-${at}` },
    involvedObject: { kind: 'Pod', namespace: 'default', name: header.podName, uid, apiVersion: 'v1', fieldPath },
    reason,
    message,
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: stamp,
    lastTimestamp: stamp,
    count,
    type: 'Warning',
    reportingComponent: 'kubelet',
    reportingInstance: 'node-1',
  };
}

const afterPost = until((o) => o.source === 'pod' && o.type === 'ADDED');
const afterStarted = until((o) => o.source === 'event' && (o.object as { reason?: string }).reason === 'Started');

describe('classifyPostError', () => {
  it.each([
    [422, 'Invalid', 'Pod "web" is invalid: spec.containers[0].image: Required value', 'validation-rejected'],
    [403, 'Forbidden', 'pods is forbidden: User "jane" cannot create resource "pods" in API group "" in the namespace "default"', 'forbidden'],
    [403, 'Forbidden', 'admission webhook "validate.kyverno.svc-fail" denied the request: image tag latest is not allowed', 'admission-rejected'],
    [403, 'Forbidden', `pods "web" is forbidden: ValidatingAdmissionPolicy 'no-latest' with binding 'no-latest' denied request: tag required`, 'admission-rejected'],
    [403, 'Forbidden', 'pods "web" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false', 'admission-rejected'],
    [500, 'InternalError', 'Internal error occurred: failed calling webhook "mutate.example.com": context deadline exceeded', 'admission-rejected'],
    [409, 'AlreadyExists', 'pods "web" already exists', 'api-error'],
  ])('%i %s → %s', (status, reason, message, cls) => {
    expect(classifyPostError({ status, reason, message }).cls).toBe(cls);
  });

  it('makes a rejected POST a final, terminal outcome with its exit code', () => {
    const obs = continueWith(until((o) => o.type === 'post-sent'), [
      {
        after: 12,
        source: 'client',
        type: 'post-error',
        data: { status: 403, reason: 'Forbidden', message: 'admission webhook "deny.example.com" denied the request: no', details: {} },
      },
    ]);
    const trace = reconstruct(header, obs);
    expect(trace.outcome).toMatchObject({ class: 'admission-rejected', exitCode: EXIT.admissionRejected, phase: 'api.accepted' });
    expect(trace.admission).toMatchObject({ status: 'rejected', rejection: { status: 403 } });
    expect(isTerminalFailure(trace)).toBe(true);
    expect(schemaErrors(trace)).toEqual([]);
  });
});

describe('unschedulable', () => {
  const message = '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';
  const failed = {
    apiVersion: 'events.k8s.io/v1',
    metadata: { name: `${header.podName}.187afed640a54ef1`, namespace: 'default', uid: 'ev-fs' },
    eventTime: '2025-11-24T16:40:00.230001Z',
    reportingController: 'default-scheduler',
    reportingInstance: 'default-scheduler-node-1',
    action: 'Scheduling',
    reason: 'FailedScheduling',
    regarding: { kind: 'Pod', namespace: 'default', name: header.podName, uid, apiVersion: 'v1' },
    note: message,
    type: 'Warning',
  };
  const pod = lastPod(afterPost);
  pod.status = {
    phase: 'Pending',
    qosClass: 'Burstable',
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: '2025-11-24T16:40:00Z' }],
  };
  const running = continueWith(afterPost, [
    { after: 8, source: 'eventsv1', type: 'ADDED', object: failed },
    { after: 9, source: 'pod', type: 'MODIFIED', object: pod },
  ]);

  it('is suspected but not terminal while the run goes on', () => {
    const trace = reconstruct(header, running);
    expect(trace.outcome.class).toBe('in-progress');
    expect(trace.outcome.suspected).toMatchObject({ class: 'unschedulable', terminal: false, message });
    expect(isTerminalFailure(trace)).toBe(false);
    expect(trace.scheduling.attempts).toHaveLength(1);
    expect(trace.scheduling.attempts[0]).toMatchObject({ source: 'event-name-ns', message });
    expect(trace.milestones.map((m) => m.id)).toContain('scheduler.failed-scheduling');
    const since = trace.outcome.suspected!.since;
    expect(settledFailure(trace, since + 4_999, 5_000)).toBeUndefined();
    expect(settledFailure(trace, since + 5_000, 5_000)?.class).toBe('unschedulable');
  });

  it('is the outcome at the timeout', () => {
    const trace = reconstruct(
      header,
      continueWith(running, [
        { after: 60_000, source: 'client', type: 'timeout', data: { afterMs: 60_000 } },
        { after: 60_001, source: 'client', type: 'done', data: { reason: 'timeout' } },
      ]),
    );
    expect(trace.outcome).toMatchObject({ class: 'unschedulable', exitCode: EXIT.unschedulable, reason: 'Unschedulable', phase: 'scheduler.scheduled' });
    expect(schemaErrors(trace)).toEqual([]);
  });
});

describe('crash loop', () => {
  const pod = lastPod(afterStarted);
  pod.status = {
    ...pod.status,
    phase: 'Running',
    containerStatuses: [
      {
        name: 'nginx',
        ready: false,
        started: false,
        restartCount: 2,
        image: 'docker.io/library/nginx:1.27',
        imageID: 'docker.io/library/nginx@sha256:0a39',
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=nginx pod=podtrace-nginx-7k2x9_default(6f1c2d3e)' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: '2025-11-24T16:40:05Z', finishedAt: '2025-11-24T16:40:05Z' } },
      },
    ],
  };
  const obs = continueWith(afterStarted, [
    { after: 900, source: 'event', type: 'ADDED', object: kubeletEvent('BackOff', 'Back-off restarting failed container nginx in pod podtrace-nginx-7k2x9_default(6f1c2d3e)', header.startedAt + 5100) },
    { after: 910, source: 'pod', type: 'MODIFIED', object: pod },
  ]);

  it('is terminal as soon as CrashLoopBackOff shows', () => {
    const trace = reconstruct(header, obs);
    expect(trace.outcome.suspected).toMatchObject({ class: 'crash-loop', terminal: true, exitCode: EXIT.crashLoop });
    expect(trace.outcome.suspected?.message).toContain('last exit code 1');
    expect(isTerminalFailure(trace)).toBe(true);
    expect(trace.milestones.map((m) => m.id)).toEqual(expect.arrayContaining(['container.nginx.exited', 'container.nginx.crash-loop-back-off']));
    expect(trace.containers[0]).toMatchObject({ restarts: 2, lastTermination: { exitCode: 1, reason: 'Error' } });
  });

  it('classifies the finished run', () => {
    const trace = reconstruct(header, continueWith(obs, [{ after: 1000, source: 'client', type: 'done', data: { reason: 'terminal-failure' } }]));
    expect(trace.outcome).toMatchObject({ class: 'crash-loop', reason: 'CrashLoopBackOff', exitCode: EXIT.crashLoop });
  });
});

describe('readiness never succeeded', () => {
  const pod = lastPod(afterStarted);
  pod.status = {
    ...pod.status,
    phase: 'Running',
    containerStatuses: [{ name: 'nginx', ready: false, started: true, restartCount: 0, state: { running: { startedAt: '2025-11-24T16:40:04Z' } }, lastState: {} }],
  };
  const obs = continueWith(afterStarted, [
    { after: 20, source: 'pod', type: 'MODIFIED', object: pod },
    { after: 3000, source: 'event', type: 'ADDED', object: kubeletEvent('Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', header.startedAt + 7100, undefined, 7) },
  ]);

  it('is only suspected while running, and the outcome at the timeout', () => {
    const running = reconstruct(header, obs);
    expect(running.outcome.suspected).toMatchObject({ class: 'readiness-never-succeeded', terminal: false, phase: 'container.nginx.ready' });
    expect(running.milestones.map((m) => m.id)).toContain('container.nginx.readiness-failed');
    const done = reconstruct(header, continueWith(obs, [{ after: 60_000, source: 'client', type: 'timeout', data: { afterMs: 60_000 } }]));
    expect(done.outcome).toMatchObject({ class: 'readiness-never-succeeded', exitCode: EXIT.readinessNeverSucceeded });
    expect(done.outcome.message).toContain('(7 times)');
  });
});

describe('config errors, failed pods, timeouts, interrupts', () => {
  it('InvalidImageName is terminal; CreateContainerConfigError is not', () => {
    for (const [reason, terminal] of [
      ['InvalidImageName', true],
      ['CreateContainerConfigError', false],
    ] as const) {
      const pod = lastPod(afterStarted);
      pod.status = { ...pod.status, containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: { waiting: { reason, message: 'x' } } }] };
      const trace = reconstruct(header, continueWith(afterStarted, [{ after: 10, source: 'pod', type: 'MODIFIED', object: pod }]));
      expect(trace.outcome.suspected).toMatchObject({ class: 'container-config-error', terminal, reason });
    }
  });

  it('a pod that ends without Ready is pod-failed', () => {
    const pod = lastPod(afterStarted);
    pod.status = {
      ...pod.status,
      phase: 'Failed',
      containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error', finishedAt: '2025-11-24T16:40:05Z' } } }],
    };
    const trace = reconstruct(header, continueWith(afterStarted, [{ after: 10, source: 'pod', type: 'MODIFIED', object: pod }]));
    expect(trace.outcome.suspected).toMatchObject({ class: 'pod-failed', terminal: true, message: 'container nginx exited with code 3 (Error)' });
  });

  it('nothing wrong but not Ready in time is a timeout naming the missing step', () => {
    const trace = reconstruct(header, continueWith(afterPost, [{ after: 30_000, source: 'client', type: 'timeout', data: { afterMs: 30_000 } }]));
    expect(trace.outcome).toMatchObject({ class: 'timeout', exitCode: EXIT.timeout, phase: 'scheduler.scheduled' });
    expect(isTerminalFailure(trace)).toBe(false);
  });

  it('an interrupt wins over a suspected failure but keeps its diagnosis', () => {
    const plain = reconstruct(header, continueWith(afterPost, [{ after: 100, source: 'client', type: 'interrupted', data: { signal: 'SIGINT' } }]));
    expect(plain.outcome).toMatchObject({ class: 'interrupted', exitCode: EXIT.interrupted });
    const term = reconstruct(header, continueWith(afterPost, [{ after: 100, source: 'client', type: 'interrupted', data: { signal: 'SIGTERM' } }]));
    expect(term.outcome.exitCode).toBe(EXIT.terminated);
  });

  it('Ready stays the outcome when the run is interrupted during teardown', () => {
    const readyAt = base.observations.findIndex((o) => o.source === 'pod' && JSON.stringify(o.object).includes('"ready":true'));
    const obs = continueWith(base.observations.slice(0, readyAt + 1), [{ after: 50, source: 'client', type: 'interrupted', data: { signal: 'SIGINT' } }]);
    expect(reconstruct(header, obs).outcome.class).toBe('ready');
  });
});
