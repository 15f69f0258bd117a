import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { formatFromPath, parseReportFormat } from '../../../src/commands/parse/formats.js';
import { EXIT } from '../../../src/exit-codes.js';
import { renderJson } from '../../../src/report/serialize.js';
import { makeRunSet } from '../../../src/analysis/runset.js';
import { memoryStream } from '../cli/fake-kube.js';
import { loadFixture } from '../trace/recording-files.js';
import { fixtureSets, parseCsv, reportSchemaErrors, traceOf } from './fixture-sets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-report-'));
const write = (name: string, content: string): string => {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return name;
};

const warm = traceOf('ready-nginx-warm.ndjson');
const cold = traceOf('ready-nginx-cold.ndjson');
const { ready, failed } = fixtureSets();
write('warm.json', renderJson(warm));
write('cold.json', renderJson(cold));
write('ready.runset.json', JSON.stringify(ready));
write('failed.runset.json', JSON.stringify(failed));

async function report(args: string[], columns?: number) {
  const stdout = memoryStream(columns ? { columns } : {});
  const stderr = memoryStream();
  const code = await main(['report', ...args], { stdout, stderr, env: {}, cwd: dir });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('podtrace report', () => {
  it('prints a table of one trace by default, labelled by the file name', async () => {
    const { code, stdout, stderr } = await report(['warm.json']);
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^warm · 1 run\n1 ready\n/);
    expect(stdout).toMatch(/│ ready +│/);
  });

  it('uses a run set’s own label, and adds the diff of two sets', async () => {
    const { code, stdout } = await report(['ready.runset.json', 'failed.runset.json', '-o', 'json']);
    expect(code).toBe(EXIT.ok);
    const parsed = JSON.parse(stdout);
    expect(reportSchemaErrors(parsed)).toEqual([]);
    expect(parsed.sets.map((s: { label: string }) => s.label)).toEqual(['ready runs', 'failed runs']);
    expect(parsed.sets[0].runs).toBe(ready.runs.length);
    expect(parsed.diff.a.label).toBe('ready runs');

    const table = await report(['warm.json', 'cold.json'], 120);
    expect(table.stdout).toContain('A warm (1 run)');
    expect(table.stdout).toMatch(/pull .*▲ regression/);
  });

  it('tells apart two inputs with the same label by their paths', async () => {
    mkdirSync(path.join(dir, 'other'), { recursive: true });
    write('other/warm.json', renderJson(cold));
    const { stdout } = await report(['warm.json', 'other/warm.json', '-o', 'json']);
    expect(JSON.parse(stdout).sets.map((s: { label: string }) => s.label)).toEqual(['warm.json', 'other/warm.json']);
  });

  it.each([
    ['report.html', 'html', (text: string) => expect(text).toMatch(/^<!doctype html>/)],
    ['report.csv', 'csv', (text: string) => expect(parseCsv(text)[0]![0]).toBe('set')],
    ['report.md', 'markdown', (text: string) => expect(text).toMatch(/^## podtrace report/)],
    ['report.json', 'json', (text: string) => expect(reportSchemaErrors(JSON.parse(text))).toEqual([])],
    ['report.txt', 'table', (text: string) => expect(text).toMatch(/^warm · 1 run/)],
  ])('--out %s writes %s atomically, nothing on stdout', async (file, _format, check) => {
    const { code, stdout, stderr } = await report(['warm.json', '--out', `out/${file}`]);
    expect(code).toBe(EXIT.ok);
    expect(stdout).toBe('');
    expect(stderr).toBe(`report saved to out/${file}\n`);
    check(readFileSync(path.join(dir, 'out', file), 'utf8'));
    expect(readdirSync(path.join(dir, 'out')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('-o wins over the extension; chrome-trace and otlp parse back', async () => {
    const chrome = await report(['ready.runset.json', '-o', 'chrome-trace', '--out', 'out/trace.json']);
    expect(chrome.code).toBe(EXIT.ok);
    const events = JSON.parse(readFileSync(path.join(dir, 'out/trace.json'), 'utf8')).traceEvents as Array<{ ph: string; name: string }>;
    expect(events.filter((e) => e.ph === 'M' && e.name === 'process_name')).toHaveLength(ready.runs.length);
    const otlp = await report(['ready.runset.json', '-o', 'OTLP']);
    const resources = JSON.parse(otlp.stdout).resourceSpans as Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> } }>;
    expect(resources.filter((r) => r.resource.attributes.some((a) => a.key === 'service.name' && a.value.stringValue === 'podtrace'))).toHaveLength(ready.runs.length);
  });

  it('writes no color into a file and none when NO_COLOR is set', async () => {
    const stdout = memoryStream({ isTTY: true, columns: 100 });
    await main(['report', 'warm.json'], { stdout, stderr: memoryStream(), env: { NO_COLOR: '1' }, cwd: dir });
    expect(stdout.text()).not.toContain('\u001b');
  });

  describe('--fail-on', () => {
    it('exits 30 with a one-line summary when a gate fails, after writing the report', async () => {
      const { code, stdout, stderr } = await report(['warm.json', '-o', 'markdown', '--fail-on', 'ready>100ms,pull>1s']);
      expect(code).toBe(EXIT.thresholdExceeded);
      expect(stdout).toMatch(/^## podtrace report/);
      expect(stderr).toMatch(/^podtrace: threshold exceeded: ready \d+ms > 100ms\n$/);
    });

    it('names the set when several are given; a metric never measured fails its gate', async () => {
      write('notfound.json', renderJson(traceOf('image-pull-not-found-doesnotexist.ndjson')));
      const { code, stderr } = await report(['warm.json', 'notfound.json', '--fail-on', 'ready>1h', '-o', 'csv']);
      expect(code).toBe(EXIT.thresholdExceeded);
      expect(stderr).toBe('podtrace: threshold exceeded: notfound: ready not measured (limit 1h)\n');
      const both = await report(['warm.json', 'cold.json', '--fail-on', 'ready>1ms']);
      expect(both.stderr).toMatch(/^podtrace: threshold exceeded: warm: ready \S+ > 1ms; cold: ready \S+ > 1ms\n$/);
    });

    it('exits 0 when every gate holds', async () => {
      const { code, stderr } = await report(['ready.runset.json', '--fail-on', 'ready.p90>1h', '--fail-on', 'pull>1m']);
      expect(code).toBe(EXIT.ok);
      expect(stderr).toBe('');
    });

    it('a malformed gate is a usage error before any file is read', async () => {
      const { code, stderr } = await report(['missing.json', '--fail-on', 'readyy>5s']);
      expect(code).toBe(EXIT.usage);
      expect(stderr).toMatch(/^podtrace: --fail-on "readyy>5s": unknown metric/);
    });
  });

  it('an unknown format is a usage error listing the formats', async () => {
    const { code, stderr } = await report(['warm.json', '-o', 'pdf']);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toBe('podtrace: -o pdf: unknown report format; use one of table, json, csv, markdown, html, chrome-trace, otlp\n');
  });

  it('needs at least one file', async () => {
    const { code, stderr } = await report([]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(/^podtrace: .*files.*\(see podtrace report --help\)\n$/);
  });

  describe('bad input files: one line each, exit 7, never a stack trace', () => {
    const traceText = renderJson(warm);
    const recording = loadFixture('ready-nginx.ndjson').text;
    const cases: Array<[string, string | null, RegExp]> = [
      ['missing.json', null, /cannot read missing\.json: no such file/],
      ['empty.json', '', /empty\.json: empty file/],
      ['corrupt.json', 'this is not json {', /corrupt\.json: not JSON/],
      ['truncated.json', traceText.slice(0, Math.floor(traceText.length / 2)), /truncated\.json: truncated/],
      ['v2.json', JSON.stringify({ ...JSON.parse(traceText), schemaVersion: 2 }), /v2\.json: unsupported trace schema version 2/],
      ['unrelated.json', JSON.stringify({ name: 'my-app', version: '1.0.0', dependencies: {} }), /unrelated\.json: not a podtrace trace/],
      ['array.json', '[1, 2, 3]', /array\.json: not a podtrace trace/],
      ['runset-v9.json', JSON.stringify({ ...makeRunSet([warm], 'x', '0.1.0'), schemaVersion: 9 }), /runset-v9\.json.*run set schemaVersion 9 is not supported/],
      ['runset-empty.json', JSON.stringify(makeRunSet([], 'x', '0.1.0')), /runset-empty\.json.*a run set with no runs/],
      ['runset-bad-run.json', JSON.stringify({ ...makeRunSet([warm], 'x', '0.1.0'), runs: [{ tool: 'podtrace', schemaVersion: 1 }] }), /run 1 of the run set: not a complete podtrace trace/],
      ['recording.ndjson', recording, /recording\.ndjson is a podtrace recording \(NDJSON\), not a trace/],
    ];
    it.each(cases)('%s', async (name, content, message) => {
      if (content !== null) write(name, content);
      for (const args of [[name], ['warm.json', name, '-o', 'html'], [name, '-o', 'otlp', '--fail-on', 'ready>1s']]) {
        const { code, stdout, stderr } = await report(args);
        expect(code).toBe(EXIT.badTraceFile);
        expect(stdout).toBe('');
        expect(stderr).toMatch(/^podtrace: [^\n]+\n$/);
        expect(stderr).toMatch(message);
        expect(stderr).not.toMatch(/\bat .*:\d+:\d+/);
      }
    });

    it('a directory', async () => {
      mkdirSync(path.join(dir, 'adir'), { recursive: true });
      const { code, stderr } = await report(['adir']);
      expect(code).toBe(EXIT.badTraceFile);
      expect(stderr).toMatch(/^podtrace: cannot read adir: it is a directory[^\n]*\n$/);
    });

    it('writes no report file when an input is bad', async () => {
      await report(['warm.json', 'corrupt.json', '--out', 'out/never.html']);
      expect(existsSync(path.join(dir, 'out/never.html'))).toBe(false);
    });
  });

  it('cannot write the report: exit 8, one line', async () => {
    write('blocker', 'a file, not a directory');
    const { code, stderr } = await report(['warm.json', '--out', 'blocker/report.html']);
    expect(code).toBe(EXIT.fileWrite);
    expect(stderr).toMatch(/^podtrace: cannot write blocker\/report\.html: [^\n]+\n$/);
  });

  it('--help lists the formats without loading anything', async () => {
    const stdout = memoryStream();
    const code = await main(['report', '--help'], { stdout, stderr: memoryStream(), env: {} });
    expect(code).toBe(EXIT.ok);
    expect(stdout.text()).toContain('chrome-trace');
    expect(stdout.text()).toContain('--fail-on');
  });
});

describe('format flags', () => {
  it('accepts any case and a few aliases', () => {
    expect(parseReportFormat('HTML')).toBe('html');
    expect(parseReportFormat('md')).toBe('markdown');
    expect(parseReportFormat('perfetto')).toBe('chrome-trace');
    expect(() => parseReportFormat('yaml')).toThrow(/unknown report format/);
  });

  it('infers the format from --out', () => {
    expect(formatFromPath('a/b/report.HTML')).toBe('html');
    expect(formatFromPath('x.csv')).toBe('csv');
    expect(formatFromPath('x.md')).toBe('markdown');
    expect(formatFromPath('x.json')).toBe('json');
    expect(formatFromPath('x')).toBeUndefined();
  });
});
