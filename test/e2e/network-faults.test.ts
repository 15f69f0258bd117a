/**
 * Network faults between podtrace and the API server (issue: reliability),
 * made with a TCP proxy the test controls (tcp-proxy.ts): every stream cut
 * while the server stays up, and the server unreachable for longer than
 * --timeout. Recordings go to test-artifacts/recordings like create.test.ts's.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { condition, deletePod, keepRecording, kubeconfigPath, readPod, startPodtrace, uniqueName, waitFor, waitForPod, waitForPodGone } from './harness.js';
import { kubeconfigThrough, kubeconfigWithProxyUrl, serverOf, Socks5Proxy, TcpProxy } from './tcp-proxy.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-netfaults-'));
let proxy: TcpProxy;
let viaProxy: string;
const leftovers: string[] = [];

beforeAll(async () => {
  proxy = new TcpProxy(serverOf(kubeconfigPath()));
  await proxy.start();
  viaProxy = kubeconfigThrough(kubeconfigPath(), proxy.port, path.join(cwd, 'kubeconfig-proxy'));
});

afterAll(async () => {
  await proxy.stop();
  for (const name of leftovers) await deletePod(name);
});

async function running(name: string): Promise<void> {
  await waitForPod(name, 'a container running', 60_000, (pod) => pod.status?.containerStatuses?.some((c) => c.state?.running) === true);
}

describe('network faults between podtrace and the API server', () => {
  it("a cluster reached through its kubeconfig's socks5:// proxy-url: every connection goes through the proxy and the run completes", async () => {
    // the bundle loads client-node's SOCKS support only when it is used (scripts/build.mjs)
    const socks = new Socks5Proxy();
    const port = await socks.start();
    try {
      const kubeconfig = kubeconfigWithProxyUrl(kubeconfigPath(), `socks5://127.0.0.1:${port}`, path.join(cwd, 'kubeconfig-socks'));
      const name = uniqueName('socks');
      leftovers.push(name);
      const result = await startPodtrace(['create', 'nginx', '--name', name, '--kubeconfig', kubeconfig, '-q', '-o', 'json'], cwd).done;
      expect(result.code, result.stderr).toBe(EXIT.ok);
      const trace = JSON.parse(result.stdout) as Trace;
      expect(trace.outcome.class).toBe('ready');
      const server = new URL(serverOf(kubeconfigPath()));
      expect(socks.connects.length).toBeGreaterThan(0);
      expect(new Set(socks.connects)).toEqual(new Set([`${server.hostname}:${server.port || 443}`]));
      await waitForPodGone(name, 30_000);
    } finally {
      await socks.stop();
    }
  });

  it('every stream cut while the server stays up: the watches resume, the trace completes and shows the gaps', async () => {
    const name = uniqueName('cut');
    const recording = path.join(cwd, `${name}.ndjson`);
    const run = startPodtrace(
      ['create', 'podtrace/slow-ready', '--env', 'READY_AFTER=6', '--readiness', 'http:8080/ready', '--name', name]
        .concat(['--kubeconfig', viaProxy, '-q', '--timeout', '2m', '--out', `${name}.json`, '--record', recording]),
      cwd,
    );
    await running(name);
    expect(condition(await readPod(name), 'Ready')).toBe('False');
    const acceptedBefore = proxy.stats.accepted;
    const cut = proxy.cutAll();
    expect(cut).toBeGreaterThanOrEqual(1);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
    keepRecording(recording, trace, 'cut-streams');
    expect(trace.outcome.class).toBe('ready');
    // podtrace connected again through the proxy, and said where its watches were broken
    expect(proxy.stats.accepted).toBeGreaterThan(acceptedBefore);
    const podGaps = trace.gaps.filter((g) => g.watch === 'pod');
    expect(podGaps.length).toBeGreaterThanOrEqual(1);
    for (const g of trace.gaps) {
      expect(g.unresolved).toBeUndefined();
      expect(g.durationMs).toBeLessThan(10_000);
    }
    expect(trace.run.complete).toBe(true);
    for (const id of ['scheduler.scheduled', 'container.slow-ready.started', 'pod.ready', 'teardown.pod-gone']) {
      expect(trace.milestones.map((m) => m.id)).toContain(id);
    }
    await waitForPodGone(name, 5_000);
  });

  it('API server unreachable for longer than --timeout: gives up cleanly, saves the trace marked incomplete, says how to clean up', async () => {
    const name = uniqueName('unreachable');
    leftovers.push(name);
    const recording = path.join(cwd, `${name}.ndjson`);
    const run = startPodtrace(
      ['create', 'podtrace/slow-ready', '--env', 'READY_AFTER=3600', '--readiness', 'http:8080/ready', '--name', name]
        .concat(['--kubeconfig', viaProxy, '-q', '--timeout', '12s', '--out', `${name}.json`, '--record', recording]),
      cwd,
    );
    // the pod runs (so podtrace has long had its POST's answer: a pod that merely exists may be
    // read before that answer has come back through the proxy): from here on podtrace sees nothing
    await waitFor(`pod ${name} to run`, 60_000, () =>
      readPod(name).then(
        (p) => (p.status?.containerStatuses?.[0]?.state?.running ? true : undefined),
        () => undefined,
      ),
    );
    await proxy.stop();
    const started = Date.now();
    const result = await run.done;
    await proxy.start(); // the same port, for whatever comes next
    // --timeout counts from the POST; teardown gives up on a refused DELETE at once
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.stderr).toContain(`kubectl delete pod -n default ${name}`);
    const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
    keepRecording(recording, trace, 'apiserver-unreachable');
    // nothing seen failing: a plain timeout (a readiness failure seen just before the cut would classify as that)
    expect([EXIT.timeout, EXIT.readinessNeverSucceeded]).toContain(result.code);
    expect(result.code).toBe(trace.outcome.exitCode);
    expect(trace.run.complete).toBe(false);
    const incomplete = (trace.run.incomplete ?? []).join('\n');
    expect(incomplete).toMatch(/gave up after --timeout 12/);
    expect(incomplete).toMatch(/watch pod lost at .* not back when the run ended/);
    expect(incomplete).toMatch(/the pod could not be deleted/);
    expect(trace.gaps.find((g) => g.watch === 'pod')?.unresolved).toBe(true);
    // what was seen before the server went away is kept
    expect(trace.milestones.map((m) => m.id)).toContain('api.accepted');
    // podtrace could not delete it: the pod is still there, as the message says
    expect((await readPod(name)).metadata?.name).toBe(name);
    await deletePod(name);
    await waitForPodGone(name);
  });
});
