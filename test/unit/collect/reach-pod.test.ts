/**
 * --expose's in-cluster vantage: the probe pod podtrace asks for, and how it reads the probe's log
 * (the lines are those hack/images/reach prints; the e2e test runs the real probe).
 */
import { describe, expect, it } from 'vitest';
import { parseReachLog, reachPodManifest, reachPodName } from '../../../src/collect/create/reach-pod.js';
import type { RunState } from '../../../src/collect/create/state.js';

const state = {
  namespace: 'team-a',
  podName: 'web',
  request: { managedBy: { key: 'app.kubernetes.io/managed-by', value: 'podtrace' }, runLabel: { key: 'podtrace.dev/run', value: 'run-1' } },
} as unknown as RunState;

describe('reachPodManifest', () => {
  const manifest = reachPodManifest(state, 'podtrace/reach:1', { clusterIP: '10.96.0.7', port: 80, dnsServer: '10.96.0.10', name: 'web.team-a.svc.cluster.local', clusterDns: 'found' }, 320_000) as {
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    spec: Record<string, any>;
  };

  it('names it after the pod, labels it as podtrace\'s (never with the run label the Service selects)', () => {
    expect(manifest.metadata).toEqual({
      name: reachPodName('web'),
      namespace: 'team-a',
      labels: { 'app.kubernetes.io/managed-by': 'podtrace', 'podtrace.dev/role': 'reach' },
    });
    expect(reachPodName('web')).toBe('web-reach');
  });

  it('asks for both targets, the tries every 100 ms, until the wait is over', () => {
    expect(manifest.spec.containers[0].args).toEqual(['-interval=100ms', '-for=320s', '-connect=10.96.0.7:80', '-resolve=web.team-a.svc.cluster.local=10.96.0.7']);
  });

  it('runs as restricted PodSecurity wants, without a token, and off the traced pod\'s node when it can', () => {
    const { spec } = manifest;
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const term = spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    expect(term).toEqual({ labelSelector: { matchLabels: { 'podtrace.dev/run': 'run-1' } }, topologyKey: 'kubernetes.io/hostname' });
  });

  it('without a cluster DNS Service, only the route; when podtrace could not look, the pod still resolves (its resolver needs no address)', () => {
    const target = { clusterIP: '10.96.0.7', port: 80, name: 'web.team-a.svc.cluster.local' };
    const args = (clusterDns: 'absent' | 'unknown') => (reachPodManifest(state, 'i', { ...target, clusterDns }, 1000) as { spec: Record<string, any> }).spec.containers[0].args;
    expect(args('absent')).toEqual(['-interval=100ms', '-for=1s', '-connect=10.96.0.7:80']);
    expect(args('unknown')).toEqual(['-interval=100ms', '-for=1s', '-connect=10.96.0.7:80', '-resolve=web.team-a.svc.cluster.local=10.96.0.7']);
  });
});

describe('parseReachLog', () => {
  it("keeps each target's last line: the result once settled, where it stood before", () => {
    const log = [
      '{"what":"dns","target":"web","ok":false,"attempts":10,"firstAttemptAt":1,"error":"no such host","pending":true}',
      '{"what":"route","target":"10.96.0.7:80","ok":true,"attempts":12,"firstAttemptAt":1,"attemptAt":1101,"previousAttemptAt":1001}',
      '{"what":"dns","target":"web","ok":false,"attempts":20,"firstAttemptAt":1,"error":"no such host","pending":true}',
      '',
    ].join('\n');
    expect(parseReachLog(log)).toEqual([
      { what: 'dns', target: 'web', ok: false, attempts: 20, firstAttemptAt: 1, error: 'no such host', pending: true },
      { what: 'route', target: '10.96.0.7:80', ok: true, attempts: 12, firstAttemptAt: 1, attemptAt: 1101, previousAttemptAt: 1001 },
    ]);
  });

  it('ignores what is not the probe\'s: other lines, a line cut short, other JSON', () => {
    expect(parseReachLog('starting\n{"what":"route","ok":tr\n{"level":"info"}\n[1,2]\n')).toEqual([]);
  });
});
