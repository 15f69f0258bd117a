/**
 * deploy/probe/ on the local cluster, scraped by a real Prometheus (Debian's 2.42, with exemplar
 * storage): the probe runs in the cluster from the local registry's image, Prometheus scrapes it
 * through its Service, the p90 query answers within the bucket that holds the p90 of the probe's
 * own traces, the exemplars are those traces' ids, the alert rules pass promtool, and every query
 * of the dashboard names metrics the probe exports (and runs).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKETS } from '../../src/report/openmetrics.js';
import type { Trace } from '../../src/trace/types.js';
import { REPO_DIR } from './cluster-provider.js';
import { clients, freePort, kubeconfigPath, pushPodtraceImage, schedulableNodes, waitFor } from './harness.js';

const run = promisify(execFile);
const NS = 'podtrace-probe';
const DEPLOY = path.join(REPO_DIR, 'deploy', 'probe');
const CACHE = process.env['PODTRACE_CACHE'] ?? '/var/cache/podtrace';
const P90 = 'histogram_quantile(0.9, sum by (le) (rate(podtrace_ready_seconds_bucket[5m])))';
let prometheus: ChildProcess | undefined;
let promUrl = '';
let probeUrl = '';

function kubectl(...args: string[]) {
  const dir = readdirSync(`${CACHE}/bin`).find((d) => d.startsWith('kubernetes-'));
  return run(`${CACHE}/bin/${dir}/kubectl`, ['--kubeconfig', kubeconfigPath(), ...args], { timeout: 120_000 });
}

async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (r.status !== 'success') throw new Error(`${expr}: ${r.error}`);
  return r.data.result;
}

beforeAll(async () => {
  const image = await pushPodtraceImage();
  const node = (await schedulableNodes())[0]!;
  await kubectl('apply', '-f', DEPLOY);
  // rounds every 5 s for the test; the image just pushed (same tag: pull it again)
  await kubectl(
    'patch', '-n', NS, 'deployment', 'podtrace-probe', '--type=json', '-p',
    JSON.stringify([
      // one node: one histogram series, so the rate's extrapolation is the same for every bucket
      { op: 'replace', path: '/spec/template/spec/containers/0/args', value: ['probe', 'nginx', '--every', '5s', '--history', '100', '--listen', ':9464', '--node-selector', `kubernetes.io/hostname=${node}`] },
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: image },
      { op: 'add', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'Always' },
    ]),
  );
  await waitFor('the probe to be available', 180_000, async () => {
    const d = await clients().kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'podtrace-probe', namespace: NS });
    return (d.status?.availableReplicas ?? 0) >= 1 && d.status?.updatedReplicas === 1 && (d.status?.replicas ?? 0) === 1 ? true : undefined;
  });
  const service = await clients().core.readNamespacedService({ name: 'podtrace-probe', namespace: NS });
  probeUrl = `http://${service.spec!.clusterIP}:9464`;
  const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 5s, evaluation_interval: 5s }',
      `rule_files: [${JSON.stringify(path.join(DEPLOY, 'monitoring', 'alerts.rules.yaml'))}]`,
      'scrape_configs:',
      '  - job_name: podtrace-probe',
      `    static_configs: [{ targets: [${JSON.stringify(`${service.spec!.clusterIP}:9464`)}] }]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--enable-feature=exemplar-storage'], { stdio: 'ignore' });
  await waitFor('Prometheus to answer', 60_000, async () => ((await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined));
}, 400_000);

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await kubectl('delete', '--wait=false', '-f', DEPLOY).catch(() => undefined);
  await waitFor('the probe namespace to be gone', 180_000, async () =>
    clients()
      .core.readNamespace({ name: NS })
      .then(
        () => undefined,
        (e: { code?: number }) => (e.code === 404 ? true : undefined),
      ),
  );
}, 240_000);

describe('the probe in the cluster, scraped by Prometheus', () => {
  it("the p90 query answers within the bucket holding the p90 of the probe's own traces, and the exemplars are their ids", async () => {
    // Over the whole counters, not their rate: rate() extrapolates each bucket's series to the
    // window's start but not below zero, so a bucket still at 0 at the first scrape is extrapolated
    // less than the buckets above it. One slow first run (a cold pull) is then enough to move the
    // rate's p90 into that run's bucket (seen in CI: 6.5 s while every run it counted took at most
    // 2 s). The cumulative buckets at one scrape count every ready run the probe recorded up to it,
    // in the order it recorded them.
    const cumulative = 'histogram_quantile(0.9, sum by (le) (podtrace_ready_seconds_bucket))';
    let counted: number[] = [];
    const value = await waitFor('the p90 query to answer over three runs', 240_000, async () => {
      const samples = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('podtrace_ready_seconds_count[10m]')}`)).json()) as {
        data: { result: Array<{ values: Array<[number, string]> }> };
      };
      const [last, after] = samples.data.result[0]?.values.at(-1) ?? [0, '0'];
      if (Number(after) < 3) return undefined;
      const traces = (await (await fetch(`${probeUrl}/traces/latest`)).json()) as Trace[];
      const ready = traces.filter((t) => t.outcome.class === 'ready').sort((x, y) => x.run.lastObservedAt - y.run.lastObservedAt);
      // --history 100 keeps every run of these few minutes
      counted = ready.slice(0, Number(after)).map((t) => t.outcome.readyAfterMs! / 1000);
      if (counted.length < Number(after)) return undefined;
      const r = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(cumulative)}&time=${last}`)).json()) as { data: { result: Array<{ value: [number, string] }> } };
      const v = r.data.result[0] ? Number(r.data.result[0].value[1]) : NaN;
      return Number.isFinite(v) ? v : undefined;
    });
    // the dashboard's query over the rate answers too, once the counters moved between two scrapes
    const rated = await waitFor('the rate p90 to answer', 60_000, async () => {
      const v = Number((await query(P90))[0]?.value[1]);
      return Number.isFinite(v) ? v : undefined;
    });
    expect(rated).toBeGreaterThan(0);
    // the p90 of those runs (nearest rank), and the bucket that holds it
    const sorted = [...counted].sort((x, y) => x - y);
    const p90 = sorted[Math.ceil(0.9 * sorted.length) - 1]!;
    const upper = BUCKETS.find((b) => b >= p90)!;
    const lower = [...BUCKETS].reverse().find((b) => b < upper) ?? 0;
    expect(value).toBeGreaterThanOrEqual(lower);
    expect(value).toBeLessThanOrEqual(upper);

    const end = Date.now() / 1000;
    const ex = (await (await fetch(`${promUrl}/api/v1/query_exemplars?query=podtrace_ready_seconds_bucket&start=${end - 600}&end=${end}`)).json()) as {
      data: Array<{ exemplars: Array<{ labels: { trace_id: string } }> }>;
    };
    const ids = ex.data.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
    expect(ids.length).toBeGreaterThan(0);
    // the probe keeps running while the rate query is awaited: read its traces again, after the
    // exemplars, so that a run recorded since the first read is known too
    const since = (await (await fetch(`${probeUrl}/traces/latest`)).json()) as Trace[];
    const known = new Set(since.map((t) => t.run.otel?.traceId));
    for (const id of ids.slice(-3)) expect(known.has(id), id).toBe(true);
  }, 300_000);

  it('the alert rules pass promtool and load; every dashboard query names metrics the probe exports, and runs', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', path.join(DEPLOY, 'monitoring', 'alerts.rules.yaml')]);
    expect(stdout).toMatch(/SUCCESS: 3 rules found/);
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> } };
    expect(rules.data.groups.flatMap((g) => g.rules.map((r) => r.name)).sort()).toEqual(['PodStartFailing', 'PodStartSlow', 'PodtraceProbeStalled']);

    const scraped = await (await fetch(`${probeUrl}/metrics`)).text();
    const families = new Set([...scraped.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'monitoring', 'dashboard.json'), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    for (const expr of exprs) {
      const names = [...expr.matchAll(/\b(podtrace_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum|total)$/, ''));
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(families.has(name), `${name} in ${expr}`).toBe(true);
      await query(expr.replaceAll('$__rate_interval', '1m'));
    }
  });
});
