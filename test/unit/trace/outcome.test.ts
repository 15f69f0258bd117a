/**
 * Outcome classification. The runs here start from the real ready-nginx
 * recording and diverge where a real failure would (same object shapes,
 * messages as the components write them); reconstruct.test.ts covers the
 * real failure recordings end to end.
 */
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/exit-codes.js';
import type { Observation } from '../../../src/trace/observation.js';
import { admissionDenier, classifyPostError } from '../../../src/trace/diagnose.js';
import { isTerminalFailure, settledFailure } from '../../../src/trace/outcome.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { loadFixture } from './recording-files.js';
import { schemaErrors } from './schema-validator.js';

const base = loadFixture('ready-nginx.ndjson');
const { header } = base;
const t0 = base.observations.find((o) => o.type === 'post-sent')!.observedAt;
const uid = ((base.observations.find((o) => o.type === 'post-response')!.data!.pod as { metadata: { uid: string } }).metadata.uid);
const node = 'podtrace-node';

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

/** RFC 3339 as the API server writes metav1.Time (whole seconds) and MicroTime (µs). */
const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const micro = (ms: number) => `${new Date(Math.floor(ms)).toISOString().slice(0, -1)}${String(Math.floor((ms % 1) * 1000)).padStart(3, '0')}Z`;
/** client-go's event name: <object>.<hex UnixNano>. */
const eventName = (ms: number) => `${header.podName}.${(BigInt(Math.round(ms * 1000)) * 1000n).toString(16)}`;

function kubeletEvent(reason: string, message: string, at: number, fieldPath = 'spec.containers{nginx}', count = 1) {
  return {
    metadata: { name: eventName(at), namespace: 'default', uid: `ev-${reason}-${at}` },
    involvedObject: { kind: 'Pod', namespace: 'default', name: header.podName, uid, apiVersion: 'v1', fieldPath },
    reason,
    message,
    source: { component: 'kubelet', host: node },
    firstTimestamp: seconds(at),
    lastTimestamp: seconds(at),
    count,
    type: 'Warning',
    reportingComponent: 'kubelet',
    reportingInstance: node,
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
    // a ValidatingAdmissionPolicy's default answer is 422 Invalid: still the policy, not validation
    [422, 'Invalid', `pods "web" is forbidden: ValidatingAdmissionPolicy 'allowed-registry' with binding 'allowed-registry' denied request: images must come from registry.example.com`, 'admission-rejected'],
  ])('%i %s → %s', (status, reason, message, cls) => {
    expect(classifyPostError({ status, reason, message }).cls).toBe(cls);
  });

  it('names the policy or webhook that denied the pod, in the hint', () => {
    const vap = `pods "web" is forbidden: ValidatingAdmissionPolicy 'allowed-registry' with binding 'allowed-registry-b' denied request: images must come from registry.example.com`;
    expect(admissionDenier(vap)).toEqual({ kind: 'policy', name: 'allowed-registry', binding: 'allowed-registry-b' });
    expect(classifyPostError({ status: 422, reason: 'Invalid', message: vap }).hint).toMatch(/^denied by ValidatingAdmissionPolicy "allowed-registry" \(binding "allowed-registry-b"\): /);
    const gatekeeper = 'admission webhook "validation.gatekeeper.sh" denied the request: [k8sallowedrepos] container <web> has an invalid image repo <nginx>';
    expect(admissionDenier(gatekeeper)).toEqual({ kind: 'webhook', name: 'validation.gatekeeper.sh' });
    expect(classifyPostError({ status: 403, reason: 'Forbidden', message: gatekeeper }).hint).toMatch(/^denied by admission webhook "validation.gatekeeper.sh": /);
    expect(admissionDenier('Pod "web" is invalid: spec.containers[0].image: Required value')).toBeUndefined();
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
    metadata: { name: eventName(t0 + 14.5), namespace: 'default', uid: 'ev-fs' },
    eventTime: micro(t0 + 14.5),
    reportingController: 'default-scheduler',
    reportingInstance: 'default-scheduler-podtrace-control-plane',
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
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: seconds(t0 + 14.5) }],
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
        image: 'docker.io/library/nginx:latest',
        imageID: 'docker.io/library/nginx@sha256:0a39',
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 20s restarting failed container=nginx pod=${header.podName}_default(${uid})` } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: seconds(t0 + 2000), finishedAt: seconds(t0 + 2000) } },
      },
    ],
  };
  const obs = continueWith(afterStarted, [
    { after: 900, source: 'event', type: 'ADDED', object: kubeletEvent('BackOff', `Back-off restarting failed container nginx in pod ${header.podName}_default(${uid})`, t0 + 1500) },
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
    containerStatuses: [{ name: 'nginx', ready: false, started: true, restartCount: 0, state: { running: { startedAt: seconds(t0 + 629) } }, lastState: {} }],
  };
  const obs = continueWith(afterStarted, [
    { after: 20, source: 'pod', type: 'MODIFIED', object: pod },
    { after: 3000, source: 'event', type: 'ADDED', object: kubeletEvent('Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', t0 + 1700, undefined, 7) },
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
      containerStatuses: [{ name: 'nginx', ready: false, restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error', finishedAt: seconds(t0 + 700) } } }],
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

describe('the create review said no (SelfSubjectAccessReview, no POST)', () => {
  // The real preflight, with the create review denied: podtrace then sends nothing and stops.
  const preflight = until((o) => o.type === 'access-review' && o.data?.verb === 'create').map((o) =>
    o.type === 'access-review' && o.data?.verb === 'create'
      ? { ...o, data: { ...o.data, allowed: false, denied: false, reason: '' } }
      : o,
  );

  it('is suspected at once, and forbidden (exit 20) when the run ends: not a timeout', () => {
    const running = reconstruct(header, preflight);
    expect(running.outcome).toMatchObject({ class: 'in-progress', suspected: { class: 'forbidden', terminal: true } });
    const done = reconstruct(header, continueWith(preflight, [{ after: 1, source: 'client', type: 'done', data: { reason: 'forbidden' } }]));
    expect(done.run.final).toBe(true);
    expect(done.outcome).toMatchObject({ class: 'forbidden', exitCode: EXIT.forbidden, phase: 'api.post-sent' });
    expect(done.outcome.message).toContain('not allowed to create pods in namespace default');
    expect(isTerminalFailure(done)).toBe(true);
    const byId = new Map(done.milestones.map((m) => [m.id, m]));
    expect(byId.get('client.authorized')?.detail).toBe('create pods: not allowed');
    expect(byId.get('client.may-delete')?.detail).toBe('delete pods: allowed');
    expect(byId.has('api.post-sent')).toBe(false);
    expect(done.accessReviews.find((r) => r.verb === 'create')).toMatchObject({ allowed: false, denied: false });
    expect(schemaErrors(done)).toEqual([]);
  });

  it('keeps the reviewer’s reason, in the trace and on the denied row', () => {
    const reason = 'RBAC: no rule allows create on pods';
    const withReason = preflight.map((o) =>
      o.type === 'access-review' && o.data?.verb === 'create' ? { ...o, data: { ...o.data, reason, denied: true } } : o,
    );
    const done = reconstruct(header, continueWith(withReason, [{ after: 1, source: 'client', type: 'done', data: { reason: 'forbidden' } }]));
    expect(done.accessReviews.find((r) => r.verb === 'create')).toMatchObject({ allowed: false, denied: true, reason });
    expect(done.milestones.find((m) => m.id === 'client.authorized')?.detail).toContain(reason);
    expect(done.outcome.class).toBe('forbidden');
  });

  it('is forbidden from the `done` reason alone when the review left no answer in the recording', () => {
    const noReviews = preflight.filter((o) => o.type !== 'access-review');
    const done = reconstruct(header, continueWith(noReviews, [{ after: 1, source: 'client', type: 'done', data: { reason: 'forbidden' } }]));
    expect(done.outcome).toMatchObject({ class: 'forbidden', exitCode: EXIT.forbidden });
  });

  it('a review that failed is unknown, not denied: the POST decides', () => {
    const errored = base.observations.map((o) =>
      o.type === 'access-review' && o.data?.verb === 'create'
        ? { ...o, data: { verb: 'create', resource: 'pods', namespace: 'default', error: '503 ServiceUnavailable: try again' } }
        : o,
    );
    const trace = reconstruct(header, errored);
    expect(trace.outcome.class).toBe('ready');
    expect(trace.accessReviews.find((r) => r.verb === 'create')).toEqual({
      verb: 'create',
      resource: 'pods',
      namespace: 'default',
      error: '503 ServiceUnavailable: try again',
    });
    expect(trace.milestones.find((m) => m.id === 'client.authorized')?.detail).toMatch(/^create pods: review failed .*the POST will tell$/);
    expect(schemaErrors(trace)).toEqual([]);
  });

  it('shows a denied delete review on its own row: podtrace cannot clean up', () => {
    const denied = base.observations.map((o) =>
      o.type === 'access-review' && o.data?.verb === 'delete' ? { ...o, data: { ...o.data, allowed: false } } : o,
    );
    const trace = reconstruct(header, denied);
    const byId = new Map(trace.milestones.map((m) => [m.id, m]));
    expect(byId.get('client.may-delete')?.detail).toBe('delete pods: not allowed: podtrace cannot clean up after itself');
    expect(byId.get('client.authorized')?.detail).toBe('create pods: allowed');
    expect(trace.outcome.class).toBe('ready');
  });
});

describe('409 AlreadyExists on the POST', () => {
  const obs = continueWith(until((o) => o.type === 'post-sent'), [
    {
      after: 6,
      source: 'client',
      type: 'post-error',
      data: {
        status: 409,
        reason: 'AlreadyExists',
        message: `pods "${header.podName}" already exists`,
        details: { name: header.podName, kind: 'pods' },
      },
    },
    { after: 7, source: 'client', type: 'done', data: { reason: 'post-error' } },
  ]);

  it('is an api-error with a usage exit code and says what to do', () => {
    const trace = reconstruct(header, obs);
    expect(trace.outcome).toMatchObject({
      class: 'api-error',
      reason: 'AlreadyExists',
      exitCode: EXIT.usage,
      hint: `a pod named ${header.podName} already exists in default: choose another --name or delete it`,
    });
    expect(isTerminalFailure(trace)).toBe(true);
    expect(schemaErrors(trace)).toEqual([]);
  });

  it('other API errors keep the internal exit code', () => {
    expect(classifyPostError({ status: 409, reason: 'AlreadyExists', message: 'pods "web" already exists' })).toMatchObject({
      cls: 'api-error',
      exitCode: EXIT.usage,
      hint: 'a pod named web already exists: choose another --name or delete it',
    });
    expect(classifyPostError({ status: 500, reason: 'InternalError', message: 'etcdserver: request timed out' })).toEqual({
      cls: 'api-error',
      reason: 'InternalError',
      message: 'etcdserver: request timed out',
    });
  });
});

describe('the `done` observation as a hint', () => {
  it('names the class the CLI stopped on when the observations no longer show it', () => {
    const crash = loadFixture('crash-loop-crash.ndjson');
    // Events expired and pod updates missed: only the client's own steps are left.
    const clientOnly = crash.observations.filter((o) => o.source === 'client');
    const trace = reconstruct(crash.header, clientOnly);
    expect(trace.outcome).toMatchObject({ class: 'crash-loop', exitCode: EXIT.crashLoop });
  });
});

