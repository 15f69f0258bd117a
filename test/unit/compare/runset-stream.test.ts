import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRunSet, parseRunSetOrTrace } from '../../../src/analysis/runset.js';
import { RunSetSplitter } from '../../../src/analysis/runset-split.js';
import { loadFactSet, loadRunSet } from '../../../src/commands/load-runset.js';
import { aggregate } from '../../../src/report/aggregate.js';
import { diff } from '../../../src/analysis/diff.js';
import { renderRunSetJson } from '../../../src/report/runset-summary.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { TraceFileError } from '../../../src/trace/trace-file-error.js';
import { loadFixture } from '../trace/recording-files.js';

const traces = ['ready-nginx.ndjson', 'crash-loop-crash.ndjson', 'ready-multi.ndjson', 'unschedulable-node-selector.ndjson'].map((f) => {
  const { header, observations } = loadFixture(f);
  return reconstruct(header, observations);
});
const set = { ...makeRunSet(traces, 'nginx · "quoted" [brackets] {braces} \\ back', '0.1.0'), createdAt: 1_700_000_000_000 };

function split(text: string, pieceSize: number): { runs: string[]; skeleton: string } {
  const splitter = new RunSetSplitter();
  const runs: string[] = [];
  for (let i = 0; i < text.length; i += pieceSize) runs.push(...splitter.push(text.slice(i, i + pieceSize)));
  return { runs, skeleton: splitter.skeleton() };
}

describe('RunSetSplitter', () => {
  const pretty = renderRunSetJson(set);
  const compact = JSON.stringify({ runs: JSON.parse(pretty).runs, kind: 'podtrace-runset', nested: { runs: [1, 2] }, label: 'x"]}' });

  it.each([1, 7, 4096, pretty.length])('cuts a run set into its runs, whatever the pieces it is fed in (%i characters)', (size) => {
    const { runs, skeleton } = split(pretty, size);
    expect(runs.map((r) => JSON.parse(r))).toEqual(JSON.parse(pretty).runs);
    expect(JSON.parse(skeleton)).toEqual({ ...JSON.parse(pretty), runs: [] });
  });

  it('finds "runs" anywhere at the top level, in compact JSON, and not in nested objects', () => {
    const { runs, skeleton } = split(compact, 13);
    expect(runs).toHaveLength(traces.length);
    expect(JSON.parse(skeleton)).toEqual({ runs: [], kind: 'podtrace-runset', nested: { runs: [1, 2] }, label: 'x"]}' });
  });

  it('says when a run is not an object', () => {
    expect(() => split('{"runs": [{"a": 1}, 2]}', 5)).toThrow(/not a JSON object/);
  });
});

describe('loadRunSet, read a piece at a time', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-stream-'));
  const file = (name: string, text: string): string => {
    writeFileSync(path.join(dir, name), text);
    return name;
  };

  it('reads the same run set as the whole-file path', async () => {
    const name = file('set.json', renderRunSetJson(set));
    const streamed = await loadRunSet(name, dir, 'set', { streamAboveBytes: 0 });
    expect(streamed).toEqual(parseRunSetOrTrace(renderRunSetJson(set), 'set'));
    expect(streamed.runs).toHaveLength(traces.length);
    expect(streamed.label).toBe(set.label);
  });

  it('names the run that is not a trace, as the whole-file path does', async () => {
    const broken = JSON.parse(renderRunSetJson(set));
    delete broken.runs[2].outcome;
    const name = file('broken.json', JSON.stringify(broken));
    const streamed = await loadRunSet(name, dir, 'broken', { streamAboveBytes: 0 }).catch((e: unknown) => e);
    const whole = await loadRunSet(name, dir, 'broken').catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(TraceFileError);
    expect((streamed as Error).message).toMatch(/^broken\.json: run 3 of the run set: /);
    expect((streamed as Error).message).toBe((whole as Error).message);
  });

  it('leaves a single trace, a recording and text that is not JSON to the whole-file path, with its messages', async () => {
    const single = file('one.json', JSON.stringify(traces[0]));
    expect((await loadRunSet(single, dir, 'one', { streamAboveBytes: 0 })).runs).toHaveLength(1);
    for (const [name, text] of [
      ['rec.ndjson', '{"kind":"podtrace-recording","schemaVersion":1}\n{"seq":0}\n'],
      ['cut.json', renderRunSetJson(set).slice(0, 5000)],
      ['empty-runs.json', JSON.stringify({ ...JSON.parse(renderRunSetJson(set)), runs: [] })],
    ] as const) {
      file(name, text);
      const streamed = await loadRunSet(name, dir, 'x', { streamAboveBytes: 0 }).catch((e: unknown) => e);
      const whole = await loadRunSet(name, dir, 'x').catch((e: unknown) => e);
      expect(streamed).toBeInstanceOf(TraceFileError);
      expect((streamed as Error).message).toBe((whole as Error).message);
    }
  });
});

describe('report and diff from the runs\' facts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-facts-'));
  writeFileSync(path.join(dir, 'a.json'), renderRunSetJson(set));
  const later = { ...set, label: 'later', runs: [...set.runs].reverse() };
  writeFileSync(path.join(dir, 'b.json'), renderRunSetJson(later));

  it('aggregates and diffs the same, read whole or a run at a time, as from the whole traces', async () => {
    const whole = [parseRunSetOrTrace(renderRunSetJson(set), 'a'), parseRunSetOrTrace(renderRunSetJson(later), 'b')] as const;
    for (const streamAboveBytes of [0, Number.POSITIVE_INFINITY]) {
      const a = await loadFactSet('a.json', dir, 'a', { streamAboveBytes });
      const b = await loadFactSet('b.json', dir, 'b', { streamAboveBytes });
      expect(a.runs).toHaveLength(traces.length);
      const fromFacts = diff(a, b, { resamples: 200 });
      expect(aggregate([a, b], fromFacts)).toEqual(aggregate([...whole], diff(whole[0], whole[1], { resamples: 200 })));
    }
  });
});


describe('report -o html, csv, chrome-trace and otlp of run sets too big to hold', () => {
  it('are written a run at a time, byte for byte the report of the whole set; a write error leaves nothing', async () => {
    const { main } = await import('../../../src/cli.js');
    const { memoryStream } = await import('../cli/fake-kube.js');
    const { renderReport } = await import('../../../src/report/render-report.js');
    const { TOOL_VERSION } = await import('../../../src/commands/version.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-bightml-'));
    // above the 16 MiB from which run sets are read a run at a time
    const runs = Array.from({ length: 1400 }, (_, i) => ({ ...traces[i % traces.length]!, pod: { ...traces[i % traces.length]!.pod, name: `pod-${i}` } }));
    const big = { ...makeRunSet(runs, 'big', '0.1.0'), createdAt: 1_700_000_000_000 };
    const text = renderRunSetJson(big);
    expect(Buffer.byteLength(text)).toBeGreaterThan(16 * 2 ** 20);
    writeFileSync(path.join(dir, 'big.json'), text);
    const stderr = memoryStream();
    const code = await main(['report', 'big.json', '-o', 'html', '--out', 'big.html'], { stdout: memoryStream(), stderr, env: {}, cwd: dir });
    expect(code, stderr.text()).toBe(0);
    const whole = renderReport([parseRunSetOrTrace(text, 'big')], 'html', { toolVersion: TOOL_VERSION });
    expect(readFileSync(path.join(dir, 'big.html'), 'utf8')).toBe(whole);
    // csv too, a run's lines at a time
    expect(await main(['report', 'big.json', '-o', 'csv', '--out', 'big.csv'], { stdout: memoryStream(), stderr: memoryStream(), env: {}, cwd: dir })).toBe(0);
    expect(readFileSync(path.join(dir, 'big.csv'), 'utf8')).toBe(renderReport([parseRunSetOrTrace(text, 'big')], 'csv', { toolVersion: TOOL_VERSION }));
    // chrome-trace and otlp of two sets: each run's events or resources as it comes, the process
    // ids counted across the sets, the POSTs lined up at the position the first read found
    const other = text.replace('"label": "big"', '"label": "other"');
    expect(other).not.toBe(text);
    writeFileSync(path.join(dir, 'other.json'), other);
    const both = [parseRunSetOrTrace(text, 'big'), parseRunSetOrTrace(other, 'other')];
    for (const [format, file] of [['chrome-trace', 'big.trace.json'], ['otlp', 'big.otlp.json']] as const) {
      expect(await main(['report', 'big.json', 'other.json', '-o', format, '--out', file], { stdout: memoryStream(), stderr: memoryStream(), env: {}, cwd: dir })).toBe(0);
      expect(readFileSync(path.join(dir, file), 'utf8'), format).toBe(renderReport(both, format, { toolVersion: TOOL_VERSION }));
    }
    // a directory where the file should go: one line, exit 8, no temp file left
    mkdirSync(path.join(dir, 'taken.html'));
    const failed = memoryStream();
    expect(await main(['report', 'big.json', '-o', 'html', '--out', 'taken.html'], { stdout: memoryStream(), stderr: failed, env: {}, cwd: dir })).toBe(8);
    expect(failed.text()).toMatch(/^podtrace: cannot write taken\.html: /);
    expect(readdirSync(dir).sort()).toEqual(['big.csv', 'big.html', 'big.json', 'big.otlp.json', 'big.trace.json', 'other.json', 'taken.html']);
  }, 60_000);
});
