import { describe, expect, it } from 'vitest';
import {
  classifyPullFailure,
  imageInMessage,
  nodeFromScheduledMessage,
  parseGoDuration,
  parsePulledMessage,
  probeKind,
  pullFailureCause,
} from '../../../src/trace/messages.js';

describe('parseGoDuration (time.Duration.String)', () => {
  it.each([
    ['1.234s', 1234],
    ['123ms', 123],
    ['1m2.5s', 62_500],
    ['1h0m0s', 3_600_000],
    ['2m0.001s', 120_001],
    ['0s', 0],
    ['5ns', 0.000005],
    ['-1.5s', -1500],
  ])('%s = %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });
  it('reads µs in every spelling', () => {
    expect(parseGoDuration('850.123µs')).toBeCloseTo(0.850123, 9);
    expect(parseGoDuration('850.123μs')).toBeCloseTo(0.850123, 9);
    expect(parseGoDuration('850us')).toBeCloseTo(0.85, 9);
  });
  it.each(['', 's', '1.2', '1x', 'about 3s', '1s2'])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('parsePulledMessage', () => {
  it('reads the current kubelet wording with waiting time and size', () => {
    expect(
      parsePulledMessage('Successfully pulled image "nginx:1.27" in 3.521s (3.6s including waiting). Image size: 72099410 bytes.'),
    ).toEqual({ kind: 'pulled', image: 'nginx:1.27', pullMs: 3521, includingWaitingMs: 3600, imageSizeBytes: 72099410 });
  });
  it('reads minutes and sub-second durations', () => {
    expect(
      parsePulledMessage('Successfully pulled image "registry.local:5000/big/app@sha256:abc" in 1m2.5s (1m10.25s including waiting). Image size: 1 bytes.'),
    ).toMatchObject({ image: 'registry.local:5000/big/app@sha256:abc', pullMs: 62_500, includingWaitingMs: 70_250 });
    expect(parsePulledMessage('Successfully pulled image "busybox" in 850ms (850ms including waiting). Image size: 2155536 bytes.')).toMatchObject({ pullMs: 850 });
  });
  it('reads the 1.28/1.29 wording without a size', () => {
    expect(parsePulledMessage('Successfully pulled image "nginx" in 2.1s (2.5s including waiting)')).toEqual({
      kind: 'pulled',
      image: 'nginx',
      pullMs: 2100,
      includingWaitingMs: 2500,
    });
  });
  it('reads the older wording with only the pull time', () => {
    expect(parsePulledMessage('Successfully pulled image "nginx:latest" in 4.032245561s')).toEqual({
      kind: 'pulled',
      image: 'nginx:latest',
      pullMs: 4032.245561,
    });
  });
  it('recognises an image already on the node, in both wordings', () => {
    expect(parsePulledMessage('Container image "nginx:1.27" already present on machine')).toEqual({ kind: 'present', image: 'nginx:1.27' });
    expect(parsePulledMessage('Container image "nginx:1.27" already present on machine and can be accessed by the pod')).toEqual({
      kind: 'present',
      image: 'nginx:1.27',
    });
  });
  it('returns undefined for anything else', () => {
    expect(parsePulledMessage('Pulling image "nginx"')).toBeUndefined();
    expect(parsePulledMessage('Successfully pulled image "nginx" in forever')).toBeUndefined();
  });
});

describe('classifyPullFailure', () => {
  it.each([
    [
      'Failed to pull image "nginx:nope": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:nope": failed to resolve reference "docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found',
      'not-found',
    ],
    ['Failed to pull image "127.0.0.1:5000/x:1": rpc error: code = Unknown desc = failed to resolve reference "127.0.0.1:5000/x:1": 127.0.0.1:5000/x:1: not found', 'not-found'],
    ['rpc error: code = Unknown desc = Error response from daemon: manifest unknown: manifest unknown', 'not-found'],
    [
      'Failed to pull image "private/app": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/private/app:latest": failed to resolve reference "docker.io/private/app:latest": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
      'unauthorized',
    ],
    ['failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token: 401 Unauthorized', 'unauthorized'],
    ['unexpected status from HEAD request to https://registry.example/v2/app/manifests/1: 403 Forbidden', 'unauthorized'],
    ['rpc error: code = Unknown desc = failed to do request: Head "https://registry.example/v2/": dial tcp: lookup registry.example: no such host', 'other'],
    ['image pull failed for r.example/app because the registry is unavailable: connection refused', 'other'],
  ])('%s → %s', (message, kind) => {
    expect(classifyPullFailure(message)).toBe(kind);
  });
});

describe('small message helpers', () => {
  it('reads what the wording alone carries', () => {
    expect(imageInMessage('Back-off pulling image "nginx:nope"')).toBe('nginx:nope');
    expect(probeKind('Readiness probe failed: HTTP probe failed with statuscode: 503')).toBe('readiness');
    expect(probeKind('Liveness probe failed: dial tcp 10.88.0.5:8080: connect: connection refused')).toBe('liveness');
    expect(probeKind('something else')).toBeUndefined();
    expect(nodeFromScheduledMessage('Successfully assigned default/web to node-1')).toBe('node-1');
  });
});

describe('pullFailureCause', () => {
  it('drops the prefix every failure repeats', () => {
    expect(pullFailureCause('Failed to pull image "nginx": pull QPS exceeded')).toBe('pull QPS exceeded');
    expect(pullFailureCause('Failed to pull image "x": rpc error: code = Unknown desc = too many requests')).toBe('too many requests');
  });

  it('keeps the end of a long chain of wrapped errors, cut at a segment', () => {
    // the message of the recording image-pull-backoff-unreachable-registry
    const message =
      'Failed to pull image "127.0.0.1:1/podtrace/nothing-listens": failed to pull and unpack image "127.0.0.1:1/podtrace/nothing-listens:latest": failed to resolve reference "127.0.0.1:1/podtrace/nothing-listens:latest": failed to do request: Head "http://127.0.0.1:1/v2/podtrace/nothing-listens/manifests/latest": dial tcp 127.0.0.1:1: connect: connection refused';
    const cause = pullFailureCause(message);
    expect(cause).toBe('…dial tcp 127.0.0.1:1: connect: connection refused');
    expect(pullFailureCause(message, 130)).toBe('…Head "http://127.0.0.1:1/v2/podtrace/nothing-listens/manifests/latest": dial tcp 127.0.0.1:1: connect: connection refused');
        expect(pullFailureCause(message, 40)).toBe('…connect: connection refused');
  });
});
