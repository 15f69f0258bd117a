/**
 * `podtrace doctor` through the CLI, in-process, against the fake cluster
 * (answering with the local cluster's real /configz and /metrics) and a
 * fake Jaeger query API that has what a real one would: the API server's
 * span of the traced request, found by its trace id, and the kubelet's.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { collectDoctor } from '../../../src/collect/doctor.js';
import { systemClock } from '../../../src/collect/observation-log.js';
import { UnreachableError } from '../../../src/errors.js';
import { EXIT } from '../../../src/exit-codes.js';
import { KubeApiError } from '../../../src/kube/errors.js';
import { FakeCluster, memoryStream, type FakeClusterOptions } from './fake-kube.js';

const DIR = fileURLToPath(new URL('../../fixtures/doctor/', import.meta.url));
const configz = JSON.parse(readFileSync(`${DIR}configz-podtrace-node.json`, 'utf8')) as unknown;
const metricsText = {
  apiserver: readFileSync(`${DIR}apiserver-metrics.txt`, 'utf8'),
  kubelet: readFileSync(`${DIR}kubelet-metrics.txt`, 'utf8'),
};

const LOCAL: FakeClusterOptions = {
  nodes: [{ name: 'node-1', config: configz }],
  metrics: (of) => metricsText[of.component],
};

const KUBELET_TRACE = 'ab'.repeat(16);

function otlp(service: string, span: Record<string, unknown>): unknown {
  const ns = String(BigInt(Date.now()) * 1_000_000n + 123n);
  return { result: { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans: [{ startTimeUnixNano: ns, endTimeUnixNano: ns, ...span }] }] }] } };
}

/** A Jaeger query API that knows the traced requests of `cluster` (set per test). */
let cluster: FakeCluster | undefined;
/** Off: the backend never gets the API server's spans (its tracing is off). */
let apiserverExports = true;
let jaeger: Server;
let backend: string;

beforeAll(async () => {
  jaeger = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const byId = /^\/api\/v3\/traces\/([0-9a-f]{32})$/.exec(url.pathname);
    if (byId) {
      const traced = !apiserverExports ? undefined : cluster?.traced.find((t) => t.traceparent.split('-')[1] === byId[1]);
      if (traced) return json(otlp('apiserver', { traceId: byId[1], spanId: traced.traceparent.split('-')[2], name: 'GET', attributes: [{ key: 'audit-id', value: { stringValue: traced.auditId } }] }));
      if (byId[1] === KUBELET_TRACE) return json(otlp('kubelet', { traceId: KUBELET_TRACE, spanId: 'cd'.repeat(8), name: 'runtime.v1.RuntimeService/ListPodSandbox' }));
      return json({ error: { httpCode: 404, message: 'trace not found' } }, 404);
    }
    if (url.pathname === '/api/traces') {
      const kubeletOfNode = url.searchParams.get('service') === 'kubelet' && url.searchParams.get('tag') === 'host.name:node-1';
      return json({ data: kubeletOfNode ? [{ traceID: KUBELET_TRACE }] : [] });
    }
    json({ error: { httpCode: 404, message: 'not found' } }, 404);
  });
  await new Promise<void>((resolve) => jaeger.listen(0, '127.0.0.1', resolve));
  backend = `http://127.0.0.1:${(jaeger.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => jaeger.close(() => resolve())));

async function doctor(argv: string[], fake: FakeCluster, env: Record<string, string> = {}, signals?: EventEmitter) {
  cluster = fake;
  const stdout = memoryStream({ columns: 100 });
  const stderr = memoryStream();
  const code = await main(['doctor', ...argv], { stdout, stderr, env, kube: fake.factory, ...(signals ? { signals: signals as never, exit: () => {} } : {}) });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('podtrace doctor', () => {
  it('every source there (spans in the backend, metrics, events): all good, exit 0', async () => {
    const fake = new FakeCluster(LOCAL);
    const result = await doctor(['--spans', backend, '-o', 'json'], fake);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as { verdict: string; exitCode: number; checks: Array<{ id: string; status: string; found: string }> };
    expect(report.checks.filter((c) => c.status === 'improve' || c.status === 'unknown')).toEqual([]);
    expect(report).toMatchObject({ verdict: 'ok', exitCode: 0 });
    expect(result.code).toBe(EXIT.ok);
    expect(report.checks.find((c) => c.id === 'apiserver-spans')!.found).toMatch(/^a traced GET \/version reached http:\/\/127\.0\.0\.1:\d+ within .*, in podtrace's own trace$/);
    // only the version request carried trace context, and nothing was created
    expect(fake.traced.map((t) => t.call)).toEqual(['serverVersion']);
    expect(fake.apiCalls.filter((c) => /^(createPod|deletePod)/.test(c))).toEqual([]);
    expect(fake.apiCalls).toEqual(expect.arrayContaining(['kubeletConfig node-1', 'componentMetrics kubelet node-1', 'componentMetrics apiserver', 'accessReview get /metrics', 'accessReview get nodes/proxy ']));
  });

  it('PODTRACE_SPANS stands for --spans', async () => {
    const result = await doctor([], new FakeCluster(LOCAL), { PODTRACE_SPANS: backend });
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/✔ all good: every source podtrace reads is there \(exit 0\)/);
  });

  it('without a trace backend: tracing not checked, exit 40, and nothing is traced', async () => {
    const fake = new FakeCluster(LOCAL);
    const result = await doctor([], fake);
    expect(result.code).toBe(EXIT.doctorImprove);
    expect(result.stdout).toMatch(/unknown API server spans {4}not checked: no trace backend given/);
    expect(result.stdout).toMatch(/2 to improve or check: each says the change above \(exit 40\)/);
    expect(fake.traced).toEqual([]);
  });

  it("Ctrl-C while it waits for the API server's span: what was found is printed, the span unknown, exit 130", async () => {
    apiserverExports = false;
    try {
      const signals = new EventEmitter();
      setTimeout(() => signals.emit('SIGINT'), 300);
      const started = Date.now();
      const result = await doctor(['--spans', backend, '-o', 'json'], new FakeCluster(LOCAL), {}, signals);
      expect(Date.now() - started).toBeLessThan(5000); // not the whole wait
      expect(result.code).toBe(EXIT.interrupted);
      const report = JSON.parse(result.stdout) as { checks: Array<{ id: string; status: string; found: string }> };
      expect(report.checks.find((c) => c.id === 'apiserver-spans')).toMatchObject({ status: 'unknown', found: expect.stringMatching(/^interrupted after .*, before a span of the traced GET \/version reached/) });
      expect(report.checks.find((c) => c.id === 'kubelet-spans')!.status).toBe('ok');
    } finally {
      apiserverExports = true;
    }
  });

  it("the API server's span never comes within the wait: not found (the collector, with a short wait)", async () => {
    apiserverExports = false;
    try {
      const fake = new FakeCluster(LOCAL);
      cluster = fake;
      const api = await fake.factory({ env: {} });
      const findings = await collectDoctor(api, { clock: systemClock, backend, spansWaitMs: 600, kubeletWindowMs: 60_000, maxNodes: 8, nodeReadTimeoutMs: 5000 });
      expect(findings.backend?.apiserver).toMatchObject({ request: 'GET /version', found: false });
      expect(findings.backend!.apiserver!.waitedMs).toBeGreaterThanOrEqual(500);
      expect(findings.backend?.resolutionMs).toBe(0.000001); // from the kubelet's span: ns
      expect(findings.kubelets[0]!.spans).toBe('found');
    } finally {
      apiserverExports = true;
    }
  });

  it('a backend that does not answer: unknown, one line each, exit 40', async () => {
    const result = await doctor(['--spans', 'http://127.0.0.1:1'], new FakeCluster(LOCAL));
    expect(result.code).toBe(EXIT.doctorImprove);
    expect(result.stdout).toMatch(/unknown API server spans {4}http:\/\/127\.0\.0\.1:1 does not answer/);
  });

  it('metrics and node proxy refused: names deploy/rbac-metrics.yaml, exit 40', async () => {
    const refusal = KubeApiError.fromResponse(403, { kind: 'Status', reason: 'Forbidden', message: 'forbidden' });
    const fake = new FakeCluster({
      nodes: [{ name: 'node-1', config: refusal }],
      metrics: () => {
        throw refusal;
      },
      forbid: ['get /metrics', 'get nodes/proxy'],
    });
    const result = await doctor(['-o', 'json'], fake);
    expect(result.code).toBe(EXIT.doctorImprove);
    const report = JSON.parse(result.stdout) as { checks: Array<{ id: string; status: string; found: string; change?: string }> };
    const metrics = report.checks.find((c) => c.id === 'apiserver-metrics')!;
    expect(metrics).toMatchObject({ status: 'improve', found: 'not allowed to read /metrics (get /metrics)' });
    expect(metrics.change).toMatch(/^kubectl apply -f deploy\/rbac-metrics\.yaml/);
    expect(report.checks.find((c) => c.id === 'access')!.found).toMatch(/may not get \/metrics, get nodes\/proxy/);
  });

  it('a cluster it cannot reach: exit 4, one line, nothing on stdout', async () => {
    const fake = new FakeCluster({ unreachable: new UnreachableError('cannot reach the API server at https://127.0.0.1:6443: connection refused', 'https://127.0.0.1:6443') });
    const result = await doctor([], fake);
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('podtrace: cannot reach the API server at https://127.0.0.1:6443: connection refused\n');
  });

  it('a bad flag is a usage error before any cluster call', async () => {
    const fake = new FakeCluster(LOCAL);
    const yaml = await doctor(['-o', 'yaml'], fake);
    expect(yaml).toMatchObject({ code: EXIT.usage, stderr: 'podtrace: -o yaml: unknown output format for doctor; use one of table, json\n' });
    const spans = await doctor(['--spans', 'localhost:16686'], fake);
    expect(spans.code).toBe(EXIT.usage);
    expect(fake.calls).toEqual([]);
  });
});
