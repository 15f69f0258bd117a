/**
 * `podtrace probe` on the real cluster (issue: distribution and probe): rounds every few seconds,
 * OpenMetrics on /metrics with histograms whose exemplars name the runs' traces (served on
 * /traces/latest), /healthz, a pod an earlier probe left deleted at start, SIGTERM after a round's
 * teardown with nothing left, and a --listen address in use refused in one line.
 */
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { clients, createPod, freePort, kubeconfigPath, NAMESPACE, otlpUrl, runPodtrace, spansUrl, schedulableNodes, serviceAccountKubeconfig, simplePod, startPodtrace, uniqueName, waitFor } from './harness.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-probe-'));
const probe = uniqueName('e2e-probe');

async function probePods(): Promise<string[]> {
  const list = await clients().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `podtrace.dev/probe=${probe}` });
  return list.items.map((p) => p.metadata!.name!);
}

afterAll(async () => {
  for (const name of await probePods()) await clients().core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 }).catch(() => undefined);
});

describe('podtrace probe', () => {
  it('rounds, OpenMetrics with exemplars of its traces, healthz, cleanup of an earlier probe, SIGTERM with nothing left', async () => {
    // what an earlier probe of the same name left, killed mid-round
    const leftover = simplePod(uniqueName('probe-leftover'), 'nginx');
    leftover.metadata!.labels = { ...leftover.metadata!.labels, 'podtrace.dev/probe': probe };
    await createPod(leftover);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const running = startPodtrace(['probe', 'nginx', '--name', probe, '--every', '2s', '--listen', `127.0.0.1:${port}`, '--kubeconfig', kubeconfigPath(), '--export-otlp', otlpUrl()], cwd);
    try {
      const metrics = await waitFor('two ready rounds on /metrics', 120_000, async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        const ready = /podtrace_probe_runs_total\{outcome="ready"\} (\d+)/.exec(text);
        return ready && Number(ready[1]) >= 2 ? text : undefined;
      });
      expect(running.stderr()).toContain(`deleted ${leftover.metadata!.name}, left by an earlier probe`);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');

      const nodes = await schedulableNodes();
      const count = [...metrics.matchAll(/^podtrace_ready_seconds_count\{node="([^"]+)",image="nginx"\} (\d+)$/gm)];
      expect(count.length).toBeGreaterThan(0);
      for (const [, node] of count) expect(nodes).toContain(node);
      expect(count.reduce((n, c) => n + Number(c[2]), 0)).toBeGreaterThanOrEqual(2);
      const exemplars = [...metrics.matchAll(/^podtrace_ready_seconds_bucket\{[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})"\} ([\d.]+)/gm)];
      expect(exemplars.length).toBeGreaterThan(0);
      const latest = (await (await fetch(`${base}/traces/latest`)).json()) as Trace[];
      const ids = latest.map((t) => t.run.otel?.traceId);
      for (const [, id, value] of exemplars) {
        expect(ids).toContain(id);
        // the exemplar's value is that run's time to Ready
        const run = latest.find((t) => t.run.otel?.traceId === id)!;
        expect(Number(value)).toBeCloseTo(run.outcome.readyAfterMs! / 1000, 3);
      }
      expect(metrics.trimEnd().endsWith('# EOF')).toBe(true);
      // each round's trace pushed to the cluster's Jaeger under its own trace id
      const pushed = latest[0]!.run.otel!.traceId;
      expect(running.stderr()).toContain(`trace ${pushed} pushed to ${otlpUrl()}/v1/traces`);
      await waitFor(`trace ${pushed} in Jaeger`, 20_000, async () => ((await fetch(`${spansUrl()}/api/v3/traces/${pushed}`)).ok ? true : undefined));
    } finally {
      running.child.kill('SIGTERM');
    }
    const done = await running.done;
    expect(done.code).toBe(EXIT.terminated);
    // the round that was running finished its teardown: nothing of the probe is left
    await waitFor('no probe pod', 60_000, async () => ((await probePods()).length === 0 ? true : undefined));
  }, 300_000);

  it('--listen on an address in use: one line, exit 42, nothing created', async () => {
    const port = await freePort();
    const holder = createServer().listen(port, '127.0.0.1');
    try {
      const result = await runPodtrace(['probe', 'nginx', '--name', probe, '--listen', `127.0.0.1:${port}`, '--kubeconfig', kubeconfigPath()], cwd);
      expect(result.code).toBe(EXIT.listenFailed);
      expect(result.stderr.trim().split('\n')).toEqual([`podtrace: cannot listen on 127.0.0.1:${port}: the address is in use; choose another --listen`]);
      expect(await probePods()).toEqual([]);
    } finally {
      holder.close();
    }
  });

  it('a ServiceAccount that may not create pods: each round counted as forbidden and logged, the probe goes on', async () => {
    const sa = uniqueName('podtrace-e2e-probe-nobody');
    await clients().core.createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name: sa } } });
    try {
      const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'nobody.kubeconfig'), sa);
      const port = await freePort();
      const running = startPodtrace(['probe', 'nginx', '--name', probe, '--every', '1s', '--listen', `127.0.0.1:${port}`, '--kubeconfig', kubeconfig], cwd);
      try {
        const text = await waitFor('two forbidden rounds', 60_000, async () => {
          const t = await (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.text();
          const n = t ? /podtrace_probe_runs_total\{outcome="forbidden"\} (\d+)/.exec(t) : null;
          return n && Number(n[1]) >= 2 ? t : undefined;
        });
        expect(text).toContain('podtrace_probe_last_outcome{podtrace_probe_last_outcome="forbidden"} 1');
        expect(running.stderr()).toMatch(/round 2: forbidden/);
        expect(running.child.exitCode).toBeNull(); // still running: no crash, no crash loop
      } finally {
        running.child.kill('SIGTERM');
        await running.done;
      }
      expect(await probePods()).toEqual([]);
    } finally {
      await clients().core.deleteNamespacedServiceAccount({ name: sa, namespace: NAMESPACE }).catch(() => undefined);
    }
  });
});
