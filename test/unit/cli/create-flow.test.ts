import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { EXIT } from '../../../src/exit-codes.js';
import { UnreachableError } from '../../../src/errors.js';
import { parseRecording } from '../../../src/trace/recording.js';
import type { Trace } from '../../../src/trace/types.js';
import { createInMemory, FakeCluster, memoryStream, type FakeClusterOptions } from './fake-kube.js';

function create(argv: string[], options: FakeClusterOptions = {}, extra: { signals?: EventEmitter; exit?: (code: number) => void } = {}) {
  return createInMemory(argv, { cluster: new FakeCluster(options), ...extra });
}

function savedTrace(cwd: string): Trace {
  const files = readdirSync(path.join(cwd, 'traces'));
  expect(files).toHaveLength(1);
  return JSON.parse(readFileSync(path.join(cwd, 'traces', files[0]!), 'utf8')) as Trace;
}

describe('create, against an in-memory cluster', () => {
  it('checks, watches before the POST, waits for Ready, deletes, and saves the trace', async () => {
    const { code, stdout, stderr, cluster, cwd } = await create(['nginx', '--name', 'web', '-o', 'json', '--record', 'run.ndjson']);
    expect(stderr).toMatch(/trace saved to traces\/web-\d{8}T\d{6}Z\.json/);
    expect(code).toBe(EXIT.ok);
    // the components' metrics are read beside the run's own calls (the POST waits for them, up to a bound)
    const metricCalls = (c: string) => c.startsWith('componentMetrics') || c === 'list nodes';
    expect(cluster.apiCalls.slice(0, 3).filter(metricCalls)).toEqual(['componentMetrics apiserver', 'list nodes']);
    const calls = cluster.apiCalls.filter((c) => !metricCalls(c));
    const firstPost = calls.indexOf('createPod default');
    expect(calls[0]).toBe('resolveCredentials');
    // the reviews and the watches go out together, all before the POST
    for (const call of [
      'serverVersion',
      'selfSubjectReview',
      'accessReview delete pods default',
      'accessReview create pods default',
      'namespaceStatus default',
      'watch pods default metadata.name=web',
      'watch events default involvedObject.name=web',
      'watch eventsv1 default regarding.name=web',
    ]) {
      expect(calls.indexOf(call), call).toBeGreaterThan(-1);
      expect(calls.indexOf(call), call).toBeLessThan(firstPost);
    }
    expect(calls).toContain('watch nodes metadata.name=node-1');
    expect(calls).toContain('getNode node-1');
    expect(calls).toContain('deletePod default/web');
    expect(cluster.calls.at(-1)).toBe('close');

    const printed = JSON.parse(stdout) as Trace;
    expect(printed.outcome.class).toBe('ready');
    expect(printed.milestones.map((m) => m.id)).toEqual(expect.arrayContaining(['api.post-sent', 'scheduler.scheduled', 'pod.ready', 'teardown.pod-gone']));
    expect(savedTrace(cwd)).toEqual(printed);

    const recording = parseRecording(readFileSync(path.join(cwd, 'run.ndjson'), 'utf8'));
    expect(recording.header).toMatchObject({ kind: 'podtrace-recording', namespace: 'default', podName: 'web', options: { keep: false, timeoutMs: 300_000, image: 'nginx' } });
    const types = recording.observations.filter((o) => o.source === 'client' && o.type !== 'request-traced' && o.type !== 'metrics-sample').map((o) => o.type);
    expect(types.slice(0, 2)).toEqual(['kubeconfig-loaded', 'credentials-resolved']);
    expect(types).toEqual(expect.arrayContaining(['submitted', 'post-sent', 'post-response', 'delete-sent', 'delete-response', 'pod-gone', 'done']));
    expect(types.at(-1)).toBe('done');
    const submitted = recording.observations.find((o) => o.type === 'submitted')!.data!['pod'] as Record<string, any>;
    expect(submitted['metadata']).toMatchObject({
      name: 'web',
      namespace: 'default',
      labels: { 'app.kubernetes.io/managed-by': 'podtrace', 'podtrace.dev/run': expect.stringMatching(/^\d{8}t\d{6}z-[a-z0-9]{5}$/) },
    });
    expect(submitted['spec'].containers).toEqual([{ name: 'nginx', image: 'nginx' }]);
    expect(JSON.stringify(recording)).not.toMatch(/"(token|password|client-key-data|client-certificate-data)":/);

    // The recording replays to the same trace and exit code, offline.
    const replayOut = memoryStream();
    const replayCode = await main(['replay', path.join(cwd, 'run.ndjson'), '-o', 'json'], { stdout: replayOut, stderr: memoryStream(), env: {} });
    expect(replayCode).toBe(EXIT.ok);
    expect(JSON.parse(replayOut.text())).toEqual(printed);
  });

  it("the API server's /metrics: before the POST, once the kubelet has reported the pod, and after Ready only if that read failed", async () => {
    const readings = async (failSecond: boolean) => {
      let apiserverReads = 0;
      const { code, cwd } = await create(['nginx', '--name', 'web', '-o', 'json', '--record', 'run.ndjson'], {
        metrics: (of) => {
          if (of.component === 'apiserver' && ++apiserverReads === 2 && failSecond) throw new Error('connection reset');
          return '';
        },
      });
      expect(code).toBe(EXIT.ok);
      const { observations } = parseRecording(readFileSync(path.join(cwd, 'run.ndjson'), 'utf8'));
      // the kubelet's first status: the binding is known to the node authorizer by then
      const reported = observations.find((o) => o.source === 'pod' && (o.object as { status?: { startTime?: string } }).status?.startTime)!.observedAt;
      return observations
        .filter((o) => o.type === 'metrics-sample')
        .map((o) => {
          const d = o.data as { component: string; phase: string; requestedAt?: number; error?: string };
          const when = d.requestedAt === undefined ? '' : d.requestedAt >= reported ? ', after the kubelet reported' : ', before the kubelet reported';
          return `${d.component} ${d.phase}${d.error ? ' failed' : ''}${when}`;
        });
    };
    // (the fake cluster lists no nodes: no kubelet is read before the POST)
    expect(await readings(false)).toEqual(['apiserver before, before the kubelet reported', 'apiserver after-post, after the kubelet reported', 'kubelet after, after the kubelet reported']);
    expect((await readings(true)).sort()).toEqual(['apiserver after, after the kubelet reported', 'apiserver after-post failed', 'apiserver before, before the kubelet reported', 'kubelet after, after the kubelet reported']);
  });

  it('the POST waits for the metric reads before it, but not for one that does not answer', async () => {
    const order = async (apiserverBefore: () => Promise<string>) => {
      let reads = 0;
      const { code, cwd } = await create(['nginx', '--name', 'web', '-o', 'json', '--record', 'run.ndjson'], {
        metrics: (of) => (of.component === 'apiserver' && ++reads === 1 ? apiserverBefore() : ''),
      });
      expect(code).toBe(EXIT.ok);
      const { observations } = parseRecording(readFileSync(path.join(cwd, 'run.ndjson'), 'utf8'));
      return observations
        .filter((o) => o.type === 'post-sent' || (o.type === 'metrics-sample' && (o.data as { phase: string }).phase === 'before'))
        .map((o) => (o.type === 'post-sent' ? 'POST' : 'before'));
    };
    // a read that takes 100 ms, longer than the reviews and the watches: the POST waits for it
    expect(await order(() => new Promise((resolve) => setTimeout(() => resolve(''), 100)))).toEqual(['before', 'POST']);
    // a read that takes 3 s: the POST goes first, and the read still counts, late
    expect(await order(() => new Promise((resolve) => setTimeout(() => resolve(''), 3000)))).toEqual(['POST', 'before']);
  }, 20_000);

  it('stops early on a terminal failure and exits with its code', async () => {
    const { code, stdout, cluster } = await create(['doesnotexist', '--name', 'bad', '-o', 'json', '--timeout', '20s'], { lifecycle: 'image-not-found' });
    const trace = JSON.parse(stdout) as Trace;
    expect(trace.outcome.class).toBe('image-pull-not-found');
    expect(code).toBe(EXIT.imagePullNotFound);
    expect(cluster.apiCalls).toContain('deletePod default/bad');
  }, 15_000);

  it('--keep leaves the pod; a table goes to stdout; stderr, not a terminal, gets no spinner', async () => {
    const { code, stdout, stderr, cluster } = await create(['nginx', '--keep']);
    expect(code).toBe(EXIT.ok);
    expect(cluster.apiCalls.some((c) => c.startsWith('deletePod'))).toBe(false);
    expect(stdout).toMatch(/podtrace-nginx-[a-z0-9]{5}/);
    expect(stdout).toMatch(/│ source\/precision │/);
    expect(stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✔]|\u001b\[/);
    expect(stderr).toMatch(/^pod kept \(--keep\); delete it with: kubectl delete pod -n default podtrace-nginx-[a-z0-9]{5}$/m);
  });

  it('--quiet: stderr is only where the trace went', async () => {
    const { code, stderr } = await create(['nginx', '--name', 'quiet', '-q']);
    expect(code).toBe(EXIT.ok);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^trace saved to traces\/quiet-\d{8}T\d{6}Z\.json$/)]);
  });

  it('times out', async () => {
    const { code, stdout } = await create(['nginx', '--name', 'slow', '--timeout', '1ms', '-o', 'json']);
    expect(code).toBe(EXIT.timeout);
    expect((JSON.parse(stdout) as Trace).outcome.class).toBe('timeout');
  });

  it('every request of the run carries the run\'s trace context and an Audit-ID naming its span; the trace and the OTLP export use them', async () => {
    const { code, stdout, cluster, cwd } = await create(['nginx', '--name', 'web', '-o', 'json', '--out', 'trace.json']);
    expect(code).toBe(EXIT.ok);
    const trace = JSON.parse(stdout) as Trace;
    const otel = trace.run.otel!;
    expect(otel.traceId).toMatch(/^[0-9a-f]{32}$/);
    // no list or watch is traced: each would be a span as long as the run
    expect(cluster.traced.map((t) => t.call)).toEqual(expect.arrayContaining(['serverVersion', 'selfSubjectReview', 'accessReview', 'namespaceStatus', 'createPod', 'getNode', 'deletePod']));
    expect(cluster.traced.some((t) => t.call === 'list' || t.call === 'watch')).toBe(false);
    for (const t of cluster.traced) {
      const [, traceId, spanId] = t.traceparent.split('-');
      expect(t.traceparent).toBe(`00-${otel.traceId}-${spanId}-01`);
      expect(t.auditId).toBe(`podtrace-${traceId}-${spanId}`);
      expect(t.auditId.length).toBeLessThanOrEqual(64);
    }
    const post = otel.requests.find((r) => r.call === 'createPod')!;
    expect(cluster.traced.find((t) => t.call === 'createPod')!.traceparent).toBe(`00-${otel.traceId}-${post.spanId}-01`);
    expect(post.durationMs).toBeGreaterThanOrEqual(0);
    expect(new Set(otel.requests.map((r) => r.spanId)).size).toBe(otel.requests.length);

    const otlp = memoryStream();
    expect(await main(['report', path.join(cwd, 'trace.json'), '-o', 'otlp'], { stdout: otlp, stderr: memoryStream(), env: {} })).toBe(EXIT.ok);
    const spans = (JSON.parse(otlp.text()) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string }> }> }> }).resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(new Set(spans.map((x) => x.traceId))).toEqual(new Set([otel.traceId]));
    expect(spans.find((x) => x.spanId === otel.rootSpanId)?.name).toBe('pod start');
    expect(spans.find((x) => x.spanId === post.spanId)).toMatchObject({ name: 'request createPod', parentSpanId: otel.rootSpanId });
  });

  it('a namespace that does not exist is exit 5, before the POST; the watches opened beside the reviews are closed', async () => {
    const { code, stderr, cluster } = await create(['nginx', '-n', 'nope'], { namespaceStatus: 'not-found' });
    expect(code).toBe(EXIT.namespaceNotFound);
    expect(stderr).toMatch(/^podtrace: namespace "nope" \(from -n\) does not exist on https:\/\/127\.0\.0\.1:6443/);
    expect(cluster.apiCalls.some((c) => c.startsWith('createPod'))).toBe(false);
    expect(cluster.streams.length).toBeGreaterThan(0);
    expect(cluster.streams.filter((s) => s.open)).toEqual([]);
  });

  it('not being allowed to read namespaces is not a failure', async () => {
    const { code } = await create(['nginx', '-o', 'json'], { namespaceStatus: 'forbidden' });
    expect(code).toBe(EXIT.ok);
  });

  it('an unreachable cluster is exit 4 naming the server', async () => {
    const refused = new UnreachableError(
      'cannot reach the API server at https://127.0.0.1:6443: connection refused (ECONNREFUSED); is the cluster running?',
      'https://127.0.0.1:6443',
    );
    const { code, stderr } = await create(['nginx'], { unreachable: refused });
    expect(code).toBe(EXIT.unreachable);
    expect(stderr.trim()).toBe(`podtrace: ${refused.message}`);
  });

  it('create denied: stops before the POST with the forbidden exit code', async () => {
    const { code, cluster, stderr } = await create(['nginx', '-o', 'json'], { createAllowed: false });
    expect(code).toBe(EXIT.forbidden);
    expect(stderr).toMatch(/not allowed to create pods in namespace default/);
    expect(cluster.apiCalls.some((c) => c.startsWith('createPod'))).toBe(false);
    // the watches, opened while the reviews ran, are closed
    expect(cluster.streams.filter((s) => s.open)).toEqual([]);
  });

  it('delete denied: warns that cleanup is impossible and leaves the pod', async () => {
    const { code, cluster, stderr } = await create(['nginx', '--name', 'web'], { deleteAllowed: false });
    expect(code).toBe(EXIT.ok);
    expect(stderr).toMatch(/not allowed to delete pods in default.*kubectl delete pod -n default web/);
    expect(cluster.apiCalls.some((c) => c.startsWith('deletePod'))).toBe(false);
  });

  it('a POST rejected as invalid is classified, with nothing to delete', async () => {
    const { code, stdout, cluster } = await create(['nginx', '-o', 'json'], {
      postError: { status: 422, body: { kind: 'Status', reason: 'Invalid', message: 'Pod "x" is invalid: spec.containers[0].image: Required value', code: 422 } },
    });
    expect(code).toBe(EXIT.validationRejected);
    expect((JSON.parse(stdout) as Trace).outcome.class).toBe('validation-rejected');
    expect(cluster.apiCalls.some((c) => c.startsWith('deletePod'))).toBe(false);
  });

  it('SIGINT deletes the pod, saves the partial trace and exits 130; a second signal exits at once', async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-sig-'));
    const cluster = new FakeCluster();
    const stderr = memoryStream();
    const run = main(['create', 'nginx', '--name', 'web', '-o', 'json'], {
      stdout: memoryStream(),
      stderr,
      env: {},
      kube: cluster.factory,
      cwd,
      signals: signals as never,
      exit: (c) => exits.push(c),
    });
    // Interrupt as soon as the POST went out.
    while (!cluster.apiCalls.some((c) => c.startsWith('createPod'))) await new Promise((r) => setImmediate(r));
    signals.emit('SIGINT');
    const code = await run;
    expect(code).toBe(EXIT.interrupted);
    expect(cluster.apiCalls).toContain('deletePod default/web');
    expect(savedTrace(cwd).outcome.class).toBe('interrupted');
    expect(stderr.text()).toMatch(/SIGINT received: deleting the pod and saving the partial trace/);
    expect(signals.listenerCount('SIGINT')).toBe(0);

    const second = new EventEmitter();
    const exits2: number[] = [];
    const cluster2 = new FakeCluster();
    const stderr2 = memoryStream();
    const run2 = main(['create', 'nginx', '--name', 'web2', '--timeout', '2s', '-o', 'json'], {
      stdout: memoryStream(),
      stderr: stderr2,
      env: {},
      kube: cluster2.factory,
      cwd,
      signals: second as never,
      exit: (c) => exits2.push(c),
    });
    while (!cluster2.apiCalls.some((c) => c.startsWith('createPod'))) await new Promise((r) => setImmediate(r));
    second.emit('SIGTERM');
    second.emit('SIGTERM');
    expect(exits2).toEqual([EXIT.terminated]);
    expect(stderr2.text()).toMatch(/stopped by a second SIGTERM\. The pod may still exist: kubectl delete pod -n default web2/);
    await run2;
    void exits;
  });
});
