/**
 * `--observe DURATION` and `--logs N` (issue: beyond startup): after Ready,
 * podtrace keeps watching. A container killed by the OOM killer shows as a
 * restart with reason OOMKilled and exit 137; a readiness probe that starts
 * failing shows its failures; usage comes from the kubelet's stats summary;
 * the first log lines are in the trace and the table.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { schemaErrors } from '../unit/trace/schema-validator.js';
import { applyRbacAs, deleteRbacAs, keepRecording, kubeconfigPath, runPodtrace, serviceAccountKubeconfig, uniqueName, waitForPodGone } from './harness.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-observe-'));

const SA = 'podtrace-e2e-observe';
afterAll(async () => {
  await deleteRbacAs(SA);
});

async function create(label: string, args: string[], kubeconfig = kubeconfigPath()): Promise<{ code: number; stdout: string; trace: Trace; name: string }> {
  const name = uniqueName(label);
  const recording = path.join(cwd, `${name}.ndjson`);
  // podtrace's own flags first: everything after -- belongs to the container
  const result = await runPodtrace(['create', '--name', name, '--kubeconfig', kubeconfig, '--out', `${name}.json`, '--record', recording, ...args], cwd);
  const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
  expect(schemaErrors(trace)).toEqual([]);
  keepRecording(recording, trace, label);
  return { code: result.code, stdout: result.stdout, trace, name };
}

describe('after Ready: --observe and --logs', () => {
  it('an OOM kill after Ready: the restart with OOMKilled and exit 137, usage samples, and the first log lines', async () => {
    // Ready at once (no probe); 3 s later the shell itself holds 300 MB under a 32 MiB limit.
    const hog = 'echo starting; echo second line; sleep 3; x=$(head -c 300000000 /dev/zero | tr "\\0" a); echo never';
    const { code, stdout, trace, name } = await create('observe-oom', [
      'nginx',
      '--limits',
      'memory=32Mi',
      '--observe',
      '15s',
      '--logs',
      '1',
      '--command',
      '--',
      'sh',
      '-c',
      hog,
    ]);
    expect(code).toBe(EXIT.ok);
    expect(trace.outcome.class).toBe('ready');
    const o = trace.observed!;
    expect(o.requestedMs).toBe(15_000);
    expect(o.durationMs).toBeGreaterThanOrEqual(14_000);
    expect(o.fromOffsetMs).toBeGreaterThanOrEqual(trace.milestones.find((m) => m.id === 'pod.ready')!.offsetMs);
    expect(o.restarts.length).toBeGreaterThanOrEqual(1);
    expect(o.restarts[0]).toMatchObject({ container: 'nginx', restartCount: 1, reason: 'OOMKilled', exitCode: 137, source: 'status-field-s' });
    expect(o.restarts[0]!.offsetMs).toBeGreaterThan(o.fromOffsetMs);
    expect(o.usage.source).toBe('kubelet-stats');
    expect(o.usage.samples.length).toBeGreaterThanOrEqual(3);
    expect(o.usage.peak[0]!.memoryBytes).toBeGreaterThan(0);
    expect(o.logs).toEqual([{ container: 'nginx', lines: ['starting'], truncated: true }]);
    expect(stdout).toMatch(/restarts: nginx at \+[\d.]+m?s OOMKilled \(exit 137\), restart #1/);
    expect(stdout).toContain('log of nginx (first 1 line, more follow)');
    expect(stdout).toContain('  │ starting');
    // the teardown still happened, after the window
    expect(trace.milestones.find((m) => m.id === 'teardown.delete-sent')!.offsetMs).toBeGreaterThanOrEqual(o.fromOffsetMs + o.durationMs);
    await waitForPodGone(name, 60_000);
  });

  it('usage from metrics.k8s.io (metrics-server) when the node proxy is not allowed: deploy/rbac.yaml only', async () => {
    await applyRbacAs(SA);
    const kubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'observe.kubeconfig'), SA);
    // metrics-server scrapes every 10 s here: a 30 s window holds its first samples of the pod
    const { code, trace } = await create('observe-metrics-api', ['nginx', '--observe', '30s'], kubeconfig);
    expect(code).toBe(EXIT.ok);
    const usage = trace.observed!.usage;
    expect(usage.source).toBe('metrics-api');
    expect(usage.samples.length).toBeGreaterThanOrEqual(1);
    expect(usage.peak[0]!.memoryBytes).toBeGreaterThan(0);
    expect(usage.error).toBeUndefined();
  }, 120_000);

  it('a readiness probe that starts failing after Ready: its failures, in the window', async () => {
    // nginx serves / until the page is removed; then / answers 403 and the probe fails every second.
    // (The image stops with SIGQUIT, which the shell must handle as PID 1.)
    const breaks = 'trap "exit 0" TERM QUIT; rm -f /var/www/html/index.nginx-debian.html; nginx -g "daemon off;" & sleep 3; rm -f /var/www/html/index.html; wait';
    const { code, trace } = await create('observe-probe', ['nginx', '--readiness', 'http:80/', '--observe', '10s', '--command', '--', 'sh', '-c', breaks]);
    expect(code).toBe(EXIT.ok);
    const o = trace.observed!;
    expect(o.restarts).toEqual([]);
    expect(o.probeFailures.length).toBeGreaterThanOrEqual(1);
    expect(o.probeFailures[0]).toMatchObject({ container: 'nginx', probe: 'readiness' });
    expect(o.probeFailures[0]!.message).toMatch(/403/);
    expect(o.probeFailures[0]!.offsetMs).toBeGreaterThanOrEqual(o.fromOffsetMs);
  });
});
