/**
 * The cause chains, on recordings of the real cluster (test/fixtures/recordings): each failure's
 * stable code, the chain from what podtrace saw to why, and the hint for that cause.
 */
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/exit-codes.js';
import { schedulingReasons } from '../../../src/trace/cause.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import type { CauseCode, Trace } from '../../../src/trace/types.js';
import { fixtureRecordings, loadFixture } from './recording-files.js';

function traceOf(file: string): Trace {
  const { header, observations } = loadFixture(file);
  return reconstruct(header, observations);
}

describe('every failure of a real recording has a cause, with a code the schema lists', () => {
  for (const { name: file } of fixtureRecordings()) {
    const trace = traceOf(file);
    const failed = !['ready', 'in-progress', 'timeout', 'interrupted'].includes(trace.outcome.class);
    if (!failed) continue;
    it(`${file}: ${trace.outcome.class}`, () => {
      const cause = trace.outcome.cause!;
      expect(cause, 'a cause').toBeDefined();
      expect(cause.chain.length).toBeGreaterThanOrEqual(2);
      expect(cause.evidence.length).toBeGreaterThan(0);
      // the outcome's hint is the cause's: specific, not the class's generic sentence
      expect(trace.outcome.hint).toBe(cause.hint);
    });
  }
});

describe.each<[string, CauseCode, RegExp, RegExp]>([
  ['crash-loop-crash.ndjson', 'exited-error', /^the container exited by itself with code 1 \(Error\)$/, /^The container exits with code 1: read `kubectl logs --previous \S+ -c crash` \(or run with --logs N\)/],
  ['pod-failed-once.ndjson', 'exited-error', /^the container exited by itself with code 1/, /read `kubectl logs \S+ -c main`/],
  ['container-config-error-config-error.ndjson', 'configmap-not-found', /^the ConfigMap "podtrace-e2e-no-such-config" it references does not exist$/, /^Create the ConfigMap "podtrace-e2e-no-such-config" in namespace default/],
  ['image-pull-not-found-doesnotexist.ndjson', 'image-not-found', /^the registry docker\.io has no docker\.io\/library\/doesnotexist-xyz:latest$/, /check the repository name and the tag/],
  ['image-pull-not-found-cause-noimage.ndjson', 'repository-not-found', /^the registry docker\.io has no repository podtrace\/no-such-image$/, /^The registry docker\.io has no repository podtrace\/no-such-image: fix the image's name/],
  ['image-pull-not-found-cause-notag.ndjson', 'tag-not-found', /^the repository library\/nginx on docker\.io has no tag no-such-tag$/, /exists on docker\.io but has no tag no-such-tag \(its tags: .*latest.*\): fix the tag\.$/],
  ['image-pull-not-found-cause-noimage-unasked.ndjson', 'image-not-found', /^the registry docker\.io has no docker\.io\/podtrace\/no-such-image:2$/, /\(podtrace could not ask the registry: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/],
  ['image-pull-backoff-cause-pull-qps.ndjson', 'registry-pull-qps', /refused the pull itself: its own limit on pulls per second was used up \(registryPullQPS 5\/s, registryBurst 10, from its \/configz\)$/, /raise registryPullQPS and registryBurst/],
  ['image-pull-backoff-unreachable-registry.ndjson', 'registry-unreachable', /^podtrace-node cannot reach the registry 127\.0\.0\.1:1$/, /connection refused/],
  ['image-pull-unauthorized-unauthorized.ndjson', 'registry-unauthorized', /^the registry 127\.0\.0\.1:5001 refused podtrace-node's pull without credentials$/, /imagePullSecret/],
  ['unschedulable-node-selector.ndjson', 'node-selector-mismatch', /^no node matches nodeSelector disktype=none$/, /fix the selector or affinity, or label a node/],
  ['readiness-never-succeeded-never-ready.ndjson', 'readiness-probe-failing', /^its readiness probe failed 16 time\(s\) \(HTTP GET \/ready on port 8080, every 1 s\)$/, /the app answers with HTTP 503/],
  ['admission-rejected-admission.ndjson', 'pod-security', /^the namespace enforces PodSecurity restricted:latest$/, /meet PodSecurity restricted:latest/],
  ['admission-rejected-vap.ndjson', 'admission-policy', /^ValidatingAdmissionPolicy "podtrace-e2e-allowed-registry" denied it$/, /^denied by ValidatingAdmissionPolicy/],
  ['validation-rejected-invalid.ndjson', 'invalid-spec', /must be less than or equal to cpu limit of 100m/, /^The API server rejected the manifest|Fix the fields/],
  ['forbidden-nobody.ndjson', 'rbac-forbidden', /is not allowed to create pods in namespace default/, /RBAC/],
  ['sandbox-failure-sandbox.ndjson', 'sandbox-failed', /no runtime for "no-such-handler" is configured/, /sandbox/],
  // recorded by test/e2e/causes.test.ts
  ['crash-loop-cause-liveness.ndjson', 'liveness-probe-kill', /^killed by the kubelet after \d+ failed liveness probe\(s\) \(TCP port 8081, every 1 s, failureThreshold 1\), not exited on its own/, /nothing listens there \(connection refused\)/],
  ['crash-loop-cause-poststart.ndjson', 'poststart-hook-failed', /^the postStart hook failed, so the kubelet killed the container$/, /postStart hook fails/],
  ['container-config-error-cause-nonroot.ndjson', 'run-as-non-root', /runAsNonRoot and image will run as root/, /runAsUser/],
  ['unschedulable-cause-nopvc.ndjson', 'pvc-not-found', /^the PersistentVolumeClaim "no-such-claim" it mounts does not exist$/, /^Create the PersistentVolumeClaim "no-such-claim"/],
  ['succeeded-cause-completes.ndjson', 'completed', /./, /never Ready/],
  ['crash-loop-cause-oom.ndjson', 'oom-killed', /more memory than its limit \(24Mi\) \(OOMKilled, exit code 137\)/, /raise its memory limit \(now 24Mi\)/],
  ['crash-loop-cause-exits.ndjson', 'exited-error', /^log: config file \/etc\/app.conf is missing$/, /exits with code 4/],
  ['crash-loop-cause-init.ndjson', 'init-container-failed', /^init container migrate exited with code 5/, /^Init container migrate fails \(exit code 5\)/],
  ['container-config-error-cause-nokey.ndjson', 'secret-key-not-found', /has no key absent$/, /Add the key absent/],
  ['unschedulable-cause-insufficient.ndjson', 'insufficient-resources', /^the most any node allocates: cpu /, /lower the requests/],
  ['unschedulable-cause-hostport.ndjson', 'host-port-conflict', /^the hostPort 18080 is already taken/, /hostPort 18080/],
  ['unschedulable-cause-taint.ndjson', 'untolerated-taint', /^taints the pod does not tolerate: podtrace-\S+: podtrace.dev\/e2e-causes=x:NoSchedule$/, /kubectl taint nodes podtrace-\S+ podtrace.dev\/e2e-causes-/],
  ['container-config-error-cause-neverpull.ndjson', 'image-never-pull', /^imagePullPolicy is Never and the image is not on node/, /kind load docker-image/],
  ['admission-rejected-cause-quota.ndjson', 'quota-exceeded', /^ResourceQuota no-pods would be exceeded/, /ResourceQuota no-pods is used up/],
  ['admission-rejected-cause-limitrange.ndjson', 'limit-range', /^a LimitRange sets the maximum cpu per Container to 100m/, /LimitRange/],
])('%s', (file, code, link, hint) => {
  const trace = traceOf(file);
  it(`cause ${code}: the link and the hint`, () => {
    expect(trace.outcome.cause?.code).toBe(code);
    expect(trace.outcome.cause!.chain.slice(1).some((l) => link.test(l))).toBe(true);
    expect(trace.outcome.hint).toMatch(hint);
  });
});

describe('a pod that ran to completion', () => {
  it('is its own class with its own exit code, not pod-failed', () => {
    const trace = traceOf('succeeded-cause-completes.ndjson');
    expect(trace.outcome).toMatchObject({ class: 'succeeded', exitCode: EXIT.succeeded });
  });

  it("in watch mode it is a success (a Job's pod did its job)", () => {
    const { header, observations } = loadFixture('succeeded-cause-completes.ndjson');
    const watched = reconstruct({ ...header, options: { ...header.options, watch: true } }, observations);
    expect(watched.outcome).toMatchObject({ class: 'succeeded', exitCode: EXIT.ok });
  });
});

describe('a ready pod, a timeout, an interrupted run: no cause', () => {
  it.each(['ready-nginx.ndjson', 'timeout-big.ndjson'])('%s', (file) => {
    expect(traceOf(file).outcome.cause).toBeUndefined();
  });
});

describe('schedulingReasons', () => {
  it("splits the scheduler's message per reason, with how many nodes gave it, without the preemption tail", () => {
    expect(
      schedulingReasons(
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {podtrace.dev/x: y}. no new claims to deallocate, preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
      ),
    ).toEqual([
      { nodes: 1, text: 'Insufficient cpu' },
      { nodes: 1, text: 'node(s) had untolerated taint {podtrace.dev/x: y}' },
    ]);
    expect(schedulingReasons('0/1 nodes are available: persistentvolumeclaim "no-such-claim" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.')).toEqual([
      { text: 'persistentvolumeclaim "no-such-claim" not found' },
    ]);
  });
});
