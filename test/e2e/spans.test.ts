/**
 * Every step timed by the component that performs it: with --spans, podtrace
 * reads the API server's and the kubelet's own spans of the run from the
 * cluster's Jaeger. The admin certificate (system:masters: the API server
 * adopts podtrace's trace context) and a ServiceAccount bound to
 * deploy/rbac.yaml (a trace of the server's own, found by the audit ID) must
 * give the same steps. Lifecycle hooks are steps, with and without spans.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import {
  applyRbacAs,
  deleteRbacAs,
  condition,
  createPod,
  deletePod,
  keepRecording,
  kubeconfigPath,
  NAMESPACE,
  otlpUrl,
  runPodtrace,
  serviceAccountKubeconfig,
  simplePod,
  spansUrl,
  startEmptyJaeger,
  startPodtrace,
  uniqueName,
  waitFor,
  waitForPod,
} from './harness.js';

const SA = 'podtrace-e2e-spans';
let cwd: string;
/** Pods the tests created themselves (not podtrace): deleted at the end. */
const others: string[] = [];


async function traced(label: string, args: string[], kubeconfig = kubeconfigPath()): Promise<{ trace: Trace; stdout: string; stderr: string; code: number }> {
  const name = uniqueName(label);
  const recording = path.join(cwd, `${name}.ndjson`);
  const result = await runPodtrace([...args, '--name', name, '--kubeconfig', kubeconfig, '-q', '--out', `${name}.json`, '--record', recording], cwd);
  const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
  keepRecording(recording, trace, label);
  return { trace, stdout: result.stdout, stderr: result.stderr, code: result.code };
}

/** The precision of the step that ends at `id`: the sum of its two ends'. */
function stepPrecision(trace: Trace, id: string): number {
  const step = trace.phases.find((p) => p.kind === 'step' && p.to === id)!;
  const at = (m: string) => trace.milestones.find((x) => x.id === m)!.precisionMs;
  return at(step.from!) + at(step.to!);
}

function expectComponentSteps(trace: Trace): void {
  expect(trace.run.otel?.traceId).toMatch(/^[0-9a-f]{32}$/);
  const spans = trace.spans!;
  expect(spans.notes.filter((n) => n.startsWith('never came') || n.startsWith('no span'))).toEqual([]);
  const step = (component: string, pattern: RegExp) => spans.steps.find((s) => s.service === component && pattern.test(s.label));
  for (const [component, pattern] of [
    ['apiserver', /^etcd write \(Create etcd3\)$/],
    ['apiserver', /^API server: POST pod$/],
    ['kubelet', /^RunPodSandbox/],
    ['kubelet', /^nginx: CreateContainer$/],
    ['kubelet', /^nginx: StartContainer$/],
  ] as const) {
    const found = step(component, pattern);
    expect(found, `${component} ${pattern}`).toBeDefined();
    expect(found!.precisionMs).toBeLessThanOrEqual(1);
    expect(found!.durationMs).toBeGreaterThan(0);
  }
  // the milestones the components time themselves
  for (const id of ['api.accepted', 'kubelet.acknowledged', 'kubelet.sandbox-requested', 'runtime.sandbox-ready']) {
    const m = trace.milestones.find((x) => x.id === id);
    expect(m?.source, id).toBe('span');
    expect(m!.precisionMs).toBeLessThanOrEqual(1);
  }
  expect(stepPrecision(trace, 'runtime.sandbox-ready')).toBeLessThanOrEqual(5);
  // where an event times the same moment, both are shown with their difference
  const created = step('kubelet', /^nginx: CreateContainer$/)!;
  expect(created.alsoTimedBy).toMatchObject({ milestone: 'container.nginx.created', source: 'event-name-ns' });
  expect(Math.abs(created.alsoTimedBy!.differenceMs)).toBeLessThan(50);
}

beforeAll(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-spans-'));
  await applyRbacAs(SA);
});

afterAll(async () => {
  for (const name of others) await deletePod(name);
  await deleteRbacAs(SA);
});

describe('--spans: the components time their own steps', () => {
  it('with the admin certificate, the API server adopts podtrace’s trace context: its spans are in the run’s trace', async () => {
    const { trace, code } = await traced('spans-admin', ['create', 'nginx', '--spans', spansUrl()]);
    expect(code).toBe(EXIT.ok);
    expectComponentSteps(trace);
    const post = trace.spans!.steps.find((s) => s.label === 'API server: POST pod')!;
    expect(post.traceId).toBe(trace.run.otel!.traceId);
    // the server span's parent is the POST's own span: the traceparent podtrace sent
    expect(post.parentSpanId).toBe(trace.run.otel!.requests.find((r) => r.call === 'createPod')!.spanId);
  });

  it('with a ServiceAccount bound to deploy/rbac.yaml, the same steps, from a trace of the server’s own found by the audit ID', async () => {
    const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'spans.kubeconfig'), SA);
    const { trace, code } = await traced('spans-serviceaccount', ['create', 'nginx', '--spans', spansUrl()], kubeconfig);
    expect(code).toBe(EXIT.ok);
    expect(trace.identity?.username).toBe(`system:serviceaccount:${NAMESPACE}:${SA}`);
    expectComponentSteps(trace);
    const post = trace.spans!.steps.find((s) => s.label === 'API server: POST pod')!;
    expect(post.traceId).not.toBe(trace.run.otel!.traceId);
    expect(post.detail).toMatch(/a trace of the API server's own/);
  });

  it('2 s postStart and preStop hooks are steps of about 2 s, with spans and from events and status without them', async () => {
    const manifest = path.join(cwd, 'hooks.yaml');
    const sleep2 = { exec: { command: ['/bin/sh', '-c', 'sleep 2'] } };
    writeFileSync(
      manifest,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {},
        spec: { terminationGracePeriodSeconds: 30, containers: [{ name: 'web', image: 'nginx', lifecycle: { postStart: sleep2, preStop: sleep2 } }] },
      }),
    );
    for (const withSpans of [true, false]) {
      const { trace, code } = await traced(withSpans ? 'hooks-spans' : 'hooks', ['create', '-f', manifest, ...(withSpans ? ['--spans', spansUrl()] : [])]);
      expect(code).toBe(EXIT.ok);
      const step = (to: string) => trace.phases.find((p) => p.kind === 'step' && p.to === to);
      const postStart = step('container.web.post-start-done');
      const preStop = step('teardown.pre-stop-done');
      expect(postStart, 'postStart step').toBeDefined();
      expect(preStop, 'preStop step').toBeDefined();
      const by = (id: string) => trace.milestones.find((m) => m.id === id)!;
      if (withSpans) {
        // exec hooks are the kubelet's ExecSync; its StopContainer follows the preStop hook
        expect(by('container.web.post-start-done').source).toBe('span');
        expect(by('teardown.pre-stop-done').source).toBe('span');
        expect(postStart!.durationMs).toBeGreaterThanOrEqual(1950);
        expect(postStart!.durationMs).toBeLessThan(2600);
        expect(preStop!.durationMs).toBeGreaterThanOrEqual(1950);
        expect(preStop!.durationMs).toBeLessThan(2600);
      } else {
        // the running status is seen after the hook; the 1-s finishedAt bounds the stop signal
        expect(by('container.web.post-start-done').source).toBe('watch-observed');
        expect(postStart!.durationMs).toBeGreaterThanOrEqual(1950);
        expect(postStart!.durationMs).toBeLessThan(3500);
        expect(preStop!.durationMs + by('teardown.pre-stop-done').precisionMs).toBeGreaterThanOrEqual(1950);
        expect(preStop!.durationMs).toBeLessThan(3500);
      }
    }
  });

  it('a trace backend that does not answer, or is not Jaeger: one line, and the trace completes from the other sources', async () => {
    for (const [url, said] of [
      ['http://127.0.0.1:1', /no component spans: http:\/\/127\.0\.0\.1:1 does not answer/],
      ['http://127.0.0.1:5000', /no component spans: http:\/\/127\.0\.0\.1:5000 answered 404 .*is it a Jaeger query API\?/],
    ] as const) {
      const { trace, code, stderr } = await traced('spans-bad-backend', ['create', 'nginx', '--spans', url]);
      expect(code).toBe(EXIT.ok);
      expect(stderr.split('\n').filter((l) => /component spans/.test(l))).toHaveLength(1);
      expect(stderr).toMatch(said);
      expect(trace.outcome.class).toBe('ready');
      expect(trace.spans?.steps).toEqual([]);
      expect(trace.spans?.notes[0]).toMatch(/^no spans: /);
    }
  });
});

describe('--spans for pods podtrace did not create, and a cluster with tracing off', () => {
  it('inspect --spans: the request that created the pod is found by its storage key, the kubelet’s syncs by its uid', async () => {
    const name = uniqueName('spans-inspect');
    others.push(name);
    await createPod(simplePod(name, 'nginx'));
    await waitForPod(name, 'Ready', 60_000, (p) => condition(p, 'Ready') === 'True');
    const recording = path.join(cwd, `${name}.ndjson`);
    const result = await runPodtrace(['inspect', name, '--kubeconfig', kubeconfigPath(), '--spans', spansUrl(), '-o', 'json', '--out', `${name}.json`, '--record', recording], cwd);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
    keepRecording(recording, trace, 'spans-inspect');
    const source = (id: string) => trace.milestones.find((m) => m.id === id)?.source;
    expect(source('api.accepted')).toBe('span');
    expect(source('kubelet.sandbox-requested')).toBe('span');
    expect(source('runtime.sandbox-ready')).toBe('span');
    const post = trace.spans!.steps.find((s) => s.label === 'API server: POST pod')!;
    expect(post.detail).toMatch(/the request that created the pod \(audit ID [0-9a-f-]{36}\)/);
    expect(trace.spans!.steps.some((s) => s.label === 'etcd write (Create etcd3)')).toBe(true);
    expect(result.stderr).not.toMatch(/component spans|still had no/);
  });

  it('watch --spans: each done pod’s trace has the components’ spans before it is final', async () => {
    const app = uniqueName('spans-watch');
    const name = `${app}-a`;
    others.push(name);
    const running = startPodtrace(['watch', '-l', `app=${app}`, '--count', '1', '--for', '90s', '--kubeconfig', kubeconfigPath(), '--spans', spansUrl(), '-o', 'json', '--out', `${app}.json`], cwd);
    await waitFor('the watch to start', 20_000, async () => (/watching pods/.test(running.stderr()) ? true : undefined));
    const pod = simplePod(name, 'nginx');
    pod.metadata!.labels = { ...pod.metadata!.labels, app };
    await createPod(pod);
    const result = await running.done;
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const trace = (JSON.parse(readFileSync(path.join(cwd, `${app}.json`), 'utf8')) as { runs: Trace[] }).runs[0]!;
    expect(trace.milestones.find((m) => m.id === 'runtime.sandbox-ready')?.source).toBe('span');
    expect(trace.spans!.steps.map((s) => s.label)).toEqual(expect.arrayContaining(['API server: POST pod', 'RunPodSandbox']));
  });

  it('a cluster whose tracing is off (a real Jaeger that nothing exports to): one note after the bounded wait, and the trace completes', async () => {
    const empty = await startEmptyJaeger(cwd);
    try {
      const { trace, code, stderr } = await traced('spans-tracing-off', ['create', 'nginx', '--spans', empty.url]);
      expect(code).toBe(EXIT.ok);
      expect(trace.outcome.class).toBe('ready');
      const notes = stderr.split('\n').filter((l) => /still had no/.test(l));
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/^note: after 1[45]s http:\/\/127\.0\.0\.1:16696 still had no the API server's spans of podtrace-[0-9a-f]+-[0-9a-f]+.*\(is tracing on\? podtrace doctor says\)/);
      expect(trace.spans?.steps).toEqual([]);
      expect(trace.milestones.find((m) => m.id === 'runtime.sandbox-ready')?.source).not.toBe('span');
    } finally {
      empty.stop();
    }
  });
});

/** A loopback port nothing listens on (just released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('--export-otlp: one trace in Jaeger', () => {
  /** The services that emitted the spans Jaeger holds under this trace id, waiting for the push to be stored. */
  async function servicesOf(traceId: string): Promise<Map<string, string[]>> {
    return waitFor(`trace ${traceId} in Jaeger`, 20_000, async () => {
      const response = await fetch(`${spansUrl()}/api/v3/traces/${traceId}`);
      if (!response.ok) return undefined;
      const body = (await response.json()) as { result: { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: Array<{ name: string }> }> }> } };
      const out = new Map<string, string[]>();
      for (const rs of body.result.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        out.set(service, [...(out.get(service) ?? []), ...rs.scopeSpans.flatMap((s) => s.spans.map((x) => x.name))]);
      }
      return out.has('podtrace') ? out : undefined;
    });
  }

  it('admin: podtrace’s steps and the API server’s spans open as one trace', async () => {
    const { trace, code, stderr } = await traced('export-otlp-admin', ['create', 'nginx', '--export-otlp', otlpUrl()]);
    expect(code).toBe(EXIT.ok);
    const traceId = trace.run.otel!.traceId;
    expect(stderr).toContain(`trace ${traceId} pushed to ${otlpUrl()}/v1/traces`);
    const services = await servicesOf(traceId);
    expect(services.get('podtrace')).toEqual(expect.arrayContaining(['pod start']));
    expect(services.get('apiserver')).toEqual(expect.arrayContaining(['Create etcd3']));
  });

  it('a ServiceAccount (the server keeps its spans in traces of its own): with --spans, copies of them join the run’s trace', async () => {
    const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'export.kubeconfig'), SA);
    const { trace, code } = await traced('export-otlp-serviceaccount', ['create', 'nginx', '--spans', spansUrl(), '--export-otlp', otlpUrl()], kubeconfig);
    expect(code).toBe(EXIT.ok);
    const services = await servicesOf(trace.run.otel!.traceId);
    expect(services.get('apiserver')).toEqual(expect.arrayContaining(['Create etcd3']));
    expect(services.get('kubelet')).toEqual(expect.arrayContaining(['runtime.v1.RuntimeService/RunPodSandbox']));
  });

  it('an endpoint that does not answer or is not OTLP: one warning, the trace saved, the exit code the run’s', async () => {
    const closed = await closedPort();
    for (const [url, said] of [
      [`http://127.0.0.1:${closed}`, new RegExp(`^warning: could not push the trace to http://127\\.0\\.0\\.1:${closed}/v1/traces: ECONNREFUSED; it is saved all the same$`, 'm')],
      // Jaeger's query UI answers every path with its page
      [spansUrl(), /^warning: http:\/\/127\.0\.0\.1:16686\/v1\/traces answered with text\/html.*, not an OTLP response: is it an OTLP\/HTTP traces endpoint/m],
    ] as const) {
      const { trace, code, stderr } = await traced('export-otlp-bad', ['create', 'nginx', '--export-otlp', url]);
      expect(code).toBe(EXIT.ok);
      expect(trace.outcome.class).toBe('ready');
      expect(stderr).toMatch(said);
    }
  });
});
