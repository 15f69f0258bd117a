/**
 * --spans for a pod podtrace did not create (inspect, watch), on real
 * recordings: the creating request is the one whose etcd write carries the
 * pod's storage key, and a backend that never received the cluster's spans
 * leaves the trace to the other sources.
 */
import { describe, expect, it } from 'vitest';
import { findSpans } from '../../../src/trace/component-spans.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseOtlpUrl } from '../../../src/commands/option-tables.js';
import { loadFixture } from './recording-files.js';

describe("spans of a pod another client created", () => {
  const { header, observations } = loadFixture('ready-spans-inspect.ndjson');
  const trace = reconstruct(header, observations);
  const key = `/pods/${header.namespace}/${header.podName}`;
  const created = Date.parse(trace.pod.creationTimestamp ?? '');

  it('finds the creating request by the storage key its etcd write carries, and times the steps from it', () => {
    const post = trace.spans!.steps.find((s) => s.label === 'API server: POST pod')!;
    expect(post.detail).toMatch(/^the request that created the pod \(audit ID [0-9a-f-]{36}\)$/);
    expect(trace.milestones.find((m) => m.id === 'api.accepted')).toMatchObject({ source: 'span' });
    expect(trace.milestones.find((m) => m.id === 'runtime.sandbox-ready')).toMatchObject({ source: 'span' });
  });

  it('takes the write in the second the creationTimestamp names: an earlier pod of the same name is not this one', () => {
    const found = (createdAtMs: number) => findSpans(observations, undefined, undefined, [], { key, createdAtMs })!.requests.map((r) => r.call);
    expect(Number.isFinite(created)).toBe(true);
    expect(found(created)).toEqual(['createPod']);
    expect(found(created + 60_000)).toEqual([]);
    expect(findSpans(observations, undefined, undefined, [], { key: `${key}-other` })!.requests).toEqual([]);
  });
});

describe('a backend that nothing exports to (tracing off)', () => {
  it('names what never came, and the steps keep their event and watch sources', () => {
    const { header, observations } = loadFixture('ready-spans-tracing-off.ndjson');
    const trace = reconstruct(header, observations);
    expect(trace.outcome.class).toBe('ready');
    expect(trace.spans!.steps).toEqual([]);
    expect(trace.spans!.notes.join('\n')).toMatch(/RunPodSandbox/);
    expect(trace.milestones.filter((m) => m.source === 'span')).toEqual([]);
  });
});

describe('--export-otlp URL', () => {
  it('adds the traces path to a base URL, as OTLP exporters do, and keeps a full one', () => {
    expect(parseOtlpUrl('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318/v1/traces');
    expect(parseOtlpUrl('http://127.0.0.1:4318/')).toBe('http://127.0.0.1:4318/v1/traces');
    expect(parseOtlpUrl('https://otel.example:443/custom/v1/traces')).toBe('https://otel.example/custom/v1/traces');
  });
  it.each([
    ['not a url', /not a URL; give an OTLP\/HTTP endpoint/],
    ['grpc://127.0.0.1:4317', /use an http:\/\/ or https:\/\/ URL/],
    ['http://127.0.0.1:4318/v1/traces?x=1', /without \? or #/],
  ])('refuses %s in one line that says what to give', (value, said) => {
    expect(() => parseOtlpUrl(value)).toThrow(said);
  });
});
