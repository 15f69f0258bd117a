import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCLI, main } from '../../../src/cli.js';
import { UnreachableError } from '../../../src/errors.js';
import { EXIT } from '../../../src/exit-codes.js';
import { parseRunSetOrTrace, type RunSet } from '../../../src/analysis/runset.js';
import { parseRecording } from '../../../src/trace/recording.js';
import type { Trace } from '../../../src/trace/types.js';
import { createInMemory, FakeCluster, memoryStream } from '../cli/fake-kube.js';
import { runSetSchemaErrors } from './schema.js';

function create(argv: string[], extra: { signals?: EventEmitter; cluster?: FakeCluster } = {}) {
  // a signal test must not end the test process: exit is a no-op there
  return createInMemory(argv, { ...extra, ...(extra.signals ? { exit: () => {} } : {}) });
}

function savedFiles(cwd: string): string[] {
  return readdirSync(path.join(cwd, 'traces'));
}

describe('create --runs N against the in-memory cluster', () => {
  it('runs one pod after another, deleting each, and saves one run set', async () => {
    const { code, stdout, stderr, cluster, cwd } = await create(['nginx', '--runs', '3', '--name', 'web', '-o', 'json', '--record', 'run.ndjson']);
    expect(code).toBe(EXIT.ok);
    const set = JSON.parse(stdout) as RunSet;
    expect(set).toMatchObject({ kind: 'podtrace-runset', schemaVersion: 1, tool: 'podtrace', label: 'nginx on fake' });
    expect(set.runs.map((t) => t.pod.name)).toEqual(['web-1', 'web-2', 'web-3']);
    expect(set.runs.map((t) => t.outcome.class)).toEqual(['ready', 'ready', 'ready']);
    expect(set.createdAt).toBe(set.runs[0]!.run.startedAt);
    expect(runSetSchemaErrors(set)).toEqual([]);
    // each pod is gone before the next POST
    const calls = cluster.apiCalls.filter((c) => /^(createPod|deletePod) /.test(c));
    expect(calls).toEqual([
      'createPod default',
      'deletePod default/web-1',
      'createPod default',
      'deletePod default/web-2',
      'createPod default',
      'deletePod default/web-3',
    ]);
    // one line per run, then where the set went
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines.filter((l) => /^run \d/.test(l))).toEqual([
      expect.stringMatching(/^run 1\/3: ready after \S+ · nginx: pull unknown · web-1$/),
      expect.stringMatching(/^run 2\/3: ready after \S+ · nginx: pull unknown · web-2$/),
      expect.stringMatching(/^run 3\/3: ready after \S+ · nginx: pull unknown · web-3$/),
    ]);
    expect(stderr).toMatch(/run set of 3 runs saved to traces\/web-1-\d{8}T\d{6}Z\.runset\.json\n/);
    const files = savedFiles(cwd);
    expect(files).toEqual([expect.stringMatching(/^web-1-\d{8}T\d{6}Z\.runset\.json$/)]);
    const saved = parseRunSetOrTrace(readFileSync(path.join(cwd, 'traces', files[0]!), 'utf8'), 'x');
    expect(saved).toEqual(set);
    // one recording per run, each replaying to its run
    for (const i of [1, 2, 3]) {
      const recording = parseRecording(readFileSync(path.join(cwd, `run-${i}.ndjson`), 'utf8'));
      expect(recording.header.podName).toBe(`web-${i}`);
    }
  });

  it('prints a per-metric summary table by default, and generated names differ per run', async () => {
    const { code, stdout } = await create(['nginx', '--runs', '2']);
    expect(code).toBe(EXIT.ok);
    // (the in-memory cluster's events do not name the container, so its pull status stays unknown)
    expect(stdout).toMatch(/^nginx on fake · 2 runs\noutcomes: 2 ready\nimages: 2 unknown\n/);
    expect(stdout).toMatch(/│ metric +│ n │ median │ +p90 │ +p99 │ +min │ +max │/);
    expect(stdout).toMatch(/│ ready +│ 2 │ +\S+ │ +\S+ │ +\S+ │ +\S+ │ +\S+ │/);
    expect(stdout).not.toMatch(/│ pull /);
  });

  it('-o yaml prints the run set as YAML; --out names the file', async () => {
    const { code, stdout, stderr, cwd } = await create(['nginx', '--runs', '2', '-o', 'yaml', '--out', 'set.json']);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toMatch(/^kind: podtrace-runset\nschemaVersion: 1\ntool: podtrace\n/);
    expect(stderr).toMatch(/run set of 2 runs saved to set\.json/);
    expect((JSON.parse(readFileSync(path.join(cwd, 'set.json'), 'utf8')) as RunSet).runs).toHaveLength(2);
  });

  it('--quiet leaves only the saved-to line on stderr', async () => {
    const { stderr } = await create(['nginx', '--runs', '2', '-q', '-o', 'json']);
    expect(stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/^run set of 2 runs saved to /)]);
  });

  it('a failing pod does not stop the series; the exit code is the first failure', async () => {
    const { code, stdout } = await create(['doesnotexist', '--runs', '2', '-o', 'json', '--timeout', '20s'], {
      cluster: new FakeCluster({ lifecycle: 'image-not-found' }),
    });
    expect(code).toBe(EXIT.imagePullNotFound);
    expect((JSON.parse(stdout) as RunSet).runs.map((t) => t.outcome.class)).toEqual(['image-pull-not-found', 'image-pull-not-found']);
  }, 20_000);

  it('SIGINT during a later run saves the runs that finished and exits 130', async () => {
    const signals = new EventEmitter();
    const cluster = new FakeCluster();
    const run = create(['nginx', '--runs', '3', '--name', 'web', '-o', 'json'], { signals, cluster });
    while (cluster.apiCalls.filter((c) => c.startsWith('createPod')).length < 2) await new Promise((r) => setImmediate(r));
    signals.emit('SIGINT');
    const { code, stdout, stderr, cwd } = await run;
    expect(code).toBe(EXIT.interrupted);
    const set = JSON.parse(stdout) as RunSet;
    expect(set.runs.map((t: Trace) => t.pod.name)).toEqual(['web-1']);
    expect(cluster.apiCalls).toContain('deletePod default/web-2');
    expect(cluster.apiCalls.filter((c) => c.startsWith('createPod'))).toHaveLength(2);
    expect(stderr).toMatch(/run 2\/3: interrupted/);
    expect(stderr).toMatch(/run set of 1 run saved to/);
    expect(savedFiles(cwd)).toHaveLength(1);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });
});

describe('create --runs: a cluster error in a later run', () => {
  it('ends the series with its exit code and keeps the runs already made', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-runs-'));
    const cluster = new FakeCluster();
    let clients = 0;
    const refused = new UnreachableError('cannot reach the API server at https://127.0.0.1:6443: connection refused (ECONNREFUSED); is the cluster running?', 'https://127.0.0.1:6443');
    const stderr = memoryStream();
    const code = await main(['create', 'nginx', '--runs', '3', '-o', 'json'], {
      stdout: memoryStream(),
      stderr,
      env: {},
      cwd,
      kube: (request) => (clients++ === 0 ? cluster.factory(request) : Promise.reject(refused)),
    });
    expect(code).toBe(EXIT.unreachable);
    expect(stderr.text()).toMatch(/run set of 1 run saved to traces\/podtrace-nginx-[a-z0-9]{5}-\d{8}T\d{6}Z\.runset\.json\npodtrace: cannot reach the API server/);
    const [file] = savedFiles(cwd);
    expect((JSON.parse(readFileSync(path.join(cwd, 'traces', file!), 'utf8')) as RunSet).runs).toHaveLength(1);
  });
});

describe('create --fail-on', () => {
  it('30: a crossed threshold is one stderr line; the trace is still printed and saved', async () => {
    const { code, stdout, stderr, cwd } = await create(['nginx', '--name', 'web', '-o', 'json', '--fail-on', 'ready>1ms,api>1h']);
    expect(code).toBe(EXIT.thresholdExceeded);
    expect((JSON.parse(stdout) as Trace).outcome.class).toBe('ready');
    expect(savedFiles(cwd)).toHaveLength(1);
    const lines = stderr.split('\n').filter((l) => l.startsWith('podtrace:'));
    expect(lines).toEqual([expect.stringMatching(/^podtrace: threshold exceeded: ready \S+ > 1ms$/)]);
  });

  it('0: within the limits', async () => {
    const { code, stderr } = await create(['nginx', '-o', 'json', '--fail-on', 'ready>1h', '--fail-on', 'schedule>10s']);
    expect(code).toBe(EXIT.ok);
    expect(stderr).not.toMatch(/threshold/);
  });

  it('with --runs the median is gated, and the statistic can be named', async () => {
    const fails = await create(['nginx', '--runs', '2', '-o', 'json', '--fail-on', 'ready>1ms']);
    expect(fails.code).toBe(EXIT.thresholdExceeded);
    expect(fails.stderr).toMatch(/^podtrace: threshold exceeded: ready median \S+ > 1ms$/m);
    const p90 = await create(['nginx', '--runs', '2', '-o', 'json', '--fail-on', 'ready.p90>1h,ready.max>1h']);
    expect(p90.code).toBe(EXIT.ok);
  });

  it('a pod that failed keeps its own exit code; the gate line is still printed', async () => {
    const { code, stderr } = await create(['doesnotexist', '-o', 'json', '--timeout', '20s', '--fail-on', 'ready>5s'], {
      cluster: new FakeCluster({ lifecycle: 'image-not-found' }),
    });
    expect(code).toBe(EXIT.imagePullNotFound);
    expect(stderr).toMatch(/^podtrace: threshold exceeded: ready not measured \(limit 5s\)$/m);
  }, 20_000);
});

describe('create --runs / --fail-on: bad input is a usage error before any API call', () => {
  it.each([
    [['nginx', '--runs', '0'], /--runs 0: a whole number of runs from 1 to 1000/],
    [['nginx', '--runs', 'three'], /--runs three: a whole number/],
    [['nginx', '--runs', '1.5'], /--runs 1\.5: a whole number/],
    [['nginx', '--runs', '1001'], /--runs 1001: a whole number of runs from 1 to 1000/],
    [['nginx', '--runs', '2', '--keep'], /--keep cannot be combined with --runs 2/],
    [['nginx', '--interval', '5s'], /--interval goes with --runs N/],
    [['nginx', '--runs', '2', '--interval', 'soon'], /--interval/],
    [['nginx', '--fail-on', 'redy>5s'], /--fail-on "redy>5s": unknown metric "redy"; use one of client, api, schedule, kubelet, sandbox, pull, start, readiness, ready, teardown/],
    [['nginx', '--fail-on', 'ready>5'], /--fail-on "ready>5": "5" is not a duration/],
    [['nginx', '--fail-on', 'ready'], /--fail-on "ready": write METRIC>DURATION/],
  ])('%j', async (argv, message) => {
    const { code, stderr, cluster } = await create(argv);
    expect(code).toBe(EXIT.usage);
    expect(stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(message)]);
    expect(cluster.calls).toEqual([]);
  });

  it('--keep is fine with --runs 1, and the options parse as data', () => {
    const cli = createCLI({ stdout: memoryStream(), stderr: memoryStream(), env: {} });
    expect(cli.parse(['create', 'nginx', '--runs', '5', '--fail-on', 'ready>5s', '--fail-on', 'pull>2s'])).toMatchObject({
      command: 'create',
      input: { options: { runs: 5, gates: [{ text: 'ready>5s' }, { text: 'pull>2s' }] } },
    });
    const plain = cli.parse(['create', 'nginx', '--keep']);
    expect(plain).toMatchObject({ input: { options: { keep: true, gates: [] } } });
    expect(plain.command === 'create' && 'runs' in plain.input.options).toBe(false);
  });
});
