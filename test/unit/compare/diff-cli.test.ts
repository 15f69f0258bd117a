import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, parseThresholds } from '../../../src/analysis/diff.js';
import { createCLI, main } from '../../../src/cli.js';
import { EXIT } from '../../../src/exit-codes.js';
import { renderJson } from '../../../src/report/serialize.js';
import { renderRunSetJson } from '../../../src/report/runset-summary.js';
import type { TraceDiff } from '../../../src/analysis/diff-types.js';
import { FIXTURE_DIR } from '../trace/recording-files.js';
import { memoryStream } from '../cli/fake-kube.js';
import { setOf, traceOf } from './fixtures.js';

const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-diff-'));
const file = (name: string, content: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

// Trace files as `podtrace create -o json` / `replay --out` write them, from real recordings.
const coldTrace = traceOf('ready-nginx-cold.ndjson');
const warmTrace = traceOf('ready-nginx-warm.ndjson');
const cold = file('cold.json', renderJson(coldTrace));
const warm = file('warm.json', renderJson(warmTrace));
const coldText = readFileSync(cold, 'utf8');
const warmSet = file('warm.runset.json', renderRunSetJson(setOf([warmTrace, traceOf('ready-nginx.ndjson')], 'nginx warm')));

async function diffCli(argv: string[]) {
  const stdout = memoryStream();
  const stderr = memoryStream();
  const code = await main(['diff', ...argv], { stdout, stderr, env: {}, cwd: dir });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('podtrace diff: exit codes', () => {
  it('0: the same trace twice, even with --fail-on-regression; every metric unchanged', async () => {
    const { code, stdout, stderr } = await diffCli([cold, cold, '--fail-on-regression', '-o', 'json']);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('');
    const result = JSON.parse(stdout) as TraceDiff;
    expect(result.regressions).toEqual([]);
    expect(new Set(result.metrics.map((m) => m.verdict))).toEqual(new Set(['unchanged']));
    expect(result.context).toEqual([]);
  });

  it('0: regressions are reported but do not fail without --fail-on-regression', async () => {
    const { code, stdout, stderr } = await diffCli(['warm.json', 'cold.json']);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/│ pull +│ +0ms │ +2\.90s │ +\+2\.90s │ +new │ ▲ regression/);
    expect(stdout).toMatch(/note: A and B have a single run: no confidence interval/);
  });

  it('31: --fail-on-regression with a regression, and one line on stderr naming it', async () => {
    const { code, stdout, stderr } = await diffCli(['warm.json', 'cold.json', '--threshold', '500ms', '--fail-on-regression', '-o', 'markdown']);
    expect(code).toBe(EXIT.regression);
    expect(stdout).toMatch(/^## podtrace diff\n/);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      'podtrace: regressions: pull +2.90s (single runs; threshold 500ms), teardown +988ms (single runs; threshold 500ms)',
    ]);
  });

  it('a per-metric threshold replaces the global one for that metric', async () => {
    const { code, stderr } = await diffCli(['warm.json', 'cold.json', '--threshold', '500ms,teardown=2s', '--fail-on-regression']);
    expect(code).toBe(EXIT.regression);
    expect(stderr).toBe('podtrace: regression: pull +2.90s (single runs; threshold 500ms)\n');
    // With the pull allowed, the start as a whole is still 3.3 s slower: 'ready' is no longer explained away.
    const total = await diffCli(['warm.json', 'cold.json', '--threshold', '500ms', '--threshold', 'teardown=2s', '--threshold', 'pull=5s', '--fail-on-regression']);
    expect(total.code).toBe(EXIT.regression);
    expect(total.stderr).toBe('podtrace: regression: ready +3.30s (single runs; threshold 500ms)\n');
    const pass = await diffCli(['warm.json', 'cold.json', '--threshold', '500ms,teardown=2s,pull=5s,ready=4s', '--fail-on-regression']);
    expect(pass.code).toBe(EXIT.ok);
  });

  it('reads a run set on one side and a single trace on the other', async () => {
    const { code, stdout } = await diffCli([warmSet, cold, '-o', 'json']);
    expect(code).toBe(EXIT.ok);
    const result = JSON.parse(stdout) as TraceDiff;
    expect(result.a).toEqual({ label: `${warmSet} · nginx warm`, runs: 2 });
    expect(result.b).toEqual({ label: cold, runs: 1 });
    expect(result.metrics.every((m) => m.ci === undefined)).toBe(true);
    expect(result.notes).toEqual([expect.stringMatching(/^B has a single run: no confidence interval/)]);
  });

  it.each([
    [['warm.json'], /missing required argument 'b' \(see podtrace diff --help\)/],
    [['warm.json', 'cold.json', 'third.json'], /too many arguments/],
    [['warm.json', 'cold.json', '--threshold', '10x'], /--threshold "10x": "10x" is neither a percentage \(10%\) nor a duration/],
    [['warm.json', 'cold.json', '--threshold', 'pul=1s'], /unknown metric "pul"; use one of client, api, schedule/],
    [['warm.json', 'cold.json', '--threshold', '10%', '--threshold', '5%'], /two percentages for all metrics/],
    [['warm.json', 'cold.json', '-o', 'xml'], /-o xml: unknown output format for diff; use one of table, json, markdown/],
    // flags are checked before any file is read
    [['missing-a.json', 'missing-b.json', '-o', 'html'], /-o html: unknown output format/],
    [['warm.json', 'cold.json', '--', 'x'], /diff takes no arguments after --/],
  ])('2: usage %j', async (argv, message) => {
    const { code, stdout, stderr } = await diffCli(argv);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});

describe('podtrace diff: every bad input file is one line, exit 7, never a stack trace', () => {
  mkdirSync(path.join(dir, 'a-directory'), { recursive: true });
  const trace = JSON.parse(coldText) as Record<string, unknown>;
  const runSet = JSON.parse(renderRunSetJson(setOf([coldTrace, warmTrace], 'two'))) as Record<string, unknown>;
  const cases: Array<[string, string, RegExp]> = [
    ['missing file', path.join(dir, 'nope.json'), /cannot read .*nope\.json: no such file$/],
    ['a directory', path.join(dir, 'a-directory'), /cannot read .*a-directory: it is a directory; give a trace file or a run set file$/],
    ['empty file', file('empty.json', ''), /empty\.json: empty file: not a podtrace trace$/],
    ['not JSON', file('notes.txt', 'pod started quickly\n'), /notes\.txt: not JSON: /],
    ['truncated JSON', file('truncated.json', coldText.slice(0, Math.floor(coldText.length / 2))), /truncated\.json: truncated: the JSON ends early/],
    ['JSON of another tool', file('package.json', JSON.stringify({ name: 'x', version: '1.0.0' })), /package\.json: not a podtrace trace: expected an object with "tool": "podtrace"$/],
    ['a JSON array', file('array.json', '[1, 2, 3]'), /array\.json: not a podtrace trace/],
    ['wrong trace schemaVersion', file('v2.json', JSON.stringify({ ...trace, schemaVersion: 2 })), /v2\.json: unsupported trace schema version 2 \(this podtrace reads version 1\)$/],
    ['a trace with a part missing', file('partial.json', JSON.stringify({ ...trace, milestones: undefined })), /partial\.json: not a complete podtrace trace: milestones is missing$/],
    ['wrong run set schemaVersion', file('v9.runset.json', JSON.stringify({ ...runSet, schemaVersion: 9 })), /v9\.runset\.json: run set schemaVersion 9 is not supported \(this podtrace reads 1\)$/],
    ['a run set with no runs', file('none.runset.json', JSON.stringify({ ...runSet, runs: [] })), /none\.runset\.json: a run set with no runs$/],
    [
      'a run set with a damaged run',
      file('bad-run.runset.json', JSON.stringify({ ...runSet, runs: [trace, { ...trace, schemaVersion: 3 }] })),
      /bad-run\.runset\.json: run 2 of the run set: unsupported trace schema version 3/,
    ],
    ['a run set of another tool', file('other.runset.json', JSON.stringify({ ...runSet, tool: 'kubetrace' })), /other\.runset\.json: a run set from "kubetrace", not from podtrace$/],
    ['a podtrace report instead', file('report.json', JSON.stringify({ kind: 'podtrace-report', schemaVersion: 1, sets: [] })), /report\.json \(a podtrace-report\): not a podtrace trace/],
    [
      'a recording instead of a trace',
      path.join(FIXTURE_DIR, 'ready-nginx-cold.ndjson'),
      /ready-nginx-cold\.ndjson is a podtrace recording \(NDJSON\), not a trace: make a trace of it first with podtrace replay .*ready-nginx-cold\.ndjson -o json --out trace\.json$/,
    ],
    [
      'a recording with only its header line',
      file('header-only.ndjson', `${readFileSync(path.join(FIXTURE_DIR, 'ready-nginx-cold.ndjson'), 'utf8').split('\n')[0]}\n`),
      /header-only\.ndjson is a podtrace recording \(NDJSON\)/,
    ],
  ];

  it.each(cases)('%s', async (_what, bad, message) => {
    for (const argv of [[bad, cold], [cold, bad]]) {
      const { code, stdout, stderr } = await diffCli(argv);
      expect(code).toBe(EXIT.badTraceFile);
      expect(stdout).toBe('');
      const lines = stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^podtrace: /);
      expect(lines[0]).toMatch(message);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('podtrace diff: parsing only', () => {
  it('createCLI parses the flags without running anything', () => {
    const cli = createCLI({ stdout: memoryStream(), stderr: memoryStream(), env: {} });
    expect(cli.parse(['diff', 'a.json', 'b.json', '--threshold', '10%', '--threshold', 'pull=1s', '--fail-on-regression', '-o', 'markdown'])).toEqual({
      command: 'diff',
      files: { a: 'a.json', b: 'b.json' },
      options: { thresholds: parseThresholds(['10%', 'pull=1s']), failOnRegression: true, output: 'markdown', debug: false },
      debug: false,
    });
    expect(cli.parse(['diff', 'a.json', 'b.json'])).toMatchObject({ options: { thresholds: DEFAULT_THRESHOLDS, failOnRegression: false, output: 'table' } });
  });

  it('--help lists the options and examples', async () => {
    const stdout = memoryStream();
    const code = await main(['diff', '--help'], { stdout, stderr: memoryStream(), env: {} });
    expect(code).toBe(EXIT.ok);
    expect(stdout.text()).toMatch(/--threshold <rule>/);
    expect(stdout.text()).toMatch(/--fail-on-regression/);
    expect(stdout.text()).toMatch(/podtrace diff warm\.runset\.json cold\.runset\.json/);
  });
});
