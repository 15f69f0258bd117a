/**
 * `podtrace create` against the real local cluster, through the built CLI
 * (run `npm run build` first). Needs PODTRACE_KUBECONFIG (e.g.
 * /var/lib/podtrace-cluster/kubeconfig); skipped without it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';

const kubeconfig = process.env['PODTRACE_KUBECONFIG'];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin', 'podtrace.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function podtrace(args: string[], cwd: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe.skipIf(!kubeconfig)('podtrace create (real cluster)', () => {
  let cwd: string;
  beforeAll(() => {
    if (!existsSync(path.join(root, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run npm run build before the e2e tests');
    cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-e2e-'));
  });

  it('traces nginx from POST to Ready and back, and the recording replays to the same trace', async () => {
    const result = await podtrace(
      ['create', 'nginx', '--kubeconfig', kubeconfig!, '-o', 'json', '--out', 'nginx.json', '--record', 'nginx.ndjson'],
      cwd,
    );
    expect(result.stderr).toMatch(/trace saved to nginx\.json/);
    expect(result.code).toBe(EXIT.ok);
    const trace = JSON.parse(result.stdout) as Trace;
    expect(JSON.parse(readFileSync(path.join(cwd, 'nginx.json'), 'utf8'))).toEqual(trace);
    expect(trace.outcome.class).toBe('ready');
    const ids = trace.milestones.map((m) => m.id);
    for (const id of ['client.kubeconfig', 'api.post-sent', 'api.accepted', 'scheduler.scheduled', 'pod.ready', 'teardown.delete-sent', 'teardown.pod-gone']) {
      expect(ids).toContain(id);
    }
    expect(trace.pod.name).toMatch(/^podtrace-nginx-[a-z0-9]{5}$/);
    expect(trace.pod.nodeName).toBeTruthy();
    expect(trace.cluster?.server).toMatch(/^https:\/\//);
    expect(trace.outcome.readyAfterMs).toBeGreaterThan(0);

    const recording = readFileSync(path.join(cwd, 'nginx.ndjson'), 'utf8');
    expect(recording).not.toMatch(/"(token|client-key-data|client-certificate-data|password)":/);
    expect(recording).not.toMatch(/BEGIN (RSA |EC )?PRIVATE KEY/);

    const replay = await podtrace(['replay', 'nginx.ndjson', '-o', 'json'], cwd);
    expect(replay.code).toBe(EXIT.ok);
    expect(JSON.parse(replay.stdout)).toEqual(trace);
  });

  it('an image that does not exist ends early with exit 11', async () => {
    const result = await podtrace(['create', 'podtrace-e2e-no-such-image', '--kubeconfig', kubeconfig!, '-o', 'json', '--timeout', '2m'], cwd);
    expect(result.code).toBe(EXIT.imagePullNotFound);
    expect((JSON.parse(result.stdout) as Trace).outcome.class).toBe('image-pull-not-found');
  });

  it('a namespace that does not exist is exit 5, with nothing created', async () => {
    const result = await podtrace(['create', 'nginx', '--kubeconfig', kubeconfig!, '-n', 'podtrace-e2e-missing'], cwd);
    expect(result.code).toBe(EXIT.namespaceNotFound);
    expect(result.stderr.trim()).toMatch(/^podtrace: namespace "podtrace-e2e-missing" \(from -n\) does not exist/);
    expect(result.stdout).toBe('');
  });

  it('an API server that refuses connections is exit 4, naming its URL', async () => {
    // A port that was free a moment ago (fetch refuses "bad ports" such as 1 before connecting).
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const broken = path.join(cwd, 'refused.kubeconfig');
    writeFileSync(broken, readFileSync(kubeconfig!, 'utf8').replace(/server: https:\/\/[^\s]+/, `server: https://127.0.0.1:${port}`));
    const result = await podtrace(['create', 'nginx', '--kubeconfig', broken], cwd);
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stderr.trim()).toBe(
      `podtrace: cannot reach the API server at https://127.0.0.1:${port}: connection refused (ECONNREFUSED); is the cluster running?`,
    );
  });

  it('an unknown context is exit 3', async () => {
    const result = await podtrace(['create', 'nginx', '--kubeconfig', kubeconfig!, '--context', 'podtrace-e2e-nope'], cwd);
    expect(result.code).toBe(EXIT.kubeconfig);
    expect(result.stderr).toMatch(/context "podtrace-e2e-nope" not found/);
  });
});
