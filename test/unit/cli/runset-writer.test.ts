import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { open } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { renderRunElement, RunSetWriter } from '../../../src/commands/runset-writer.js';
import { FileWriteError } from '../../../src/errors.js';
import { renderRunSetJson } from '../../../src/report/runset-summary.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { makeRunSet, parseRunSetOrTrace } from '../../../src/analysis/runset.js';
import { loadFixture } from '../trace/recording-files.js';

const traces = ['ready-nginx.ndjson', 'crash-loop-crash.ndjson', 'ready-multi.ndjson'].map((f) => {
  const { header, observations } = loadFixture(f);
  return reconstruct(header, observations);
});
const head = { ...makeRunSet([], 'app=web in default', '0.1.0'), createdAt: traces[0]!.run.startedAt };
const dir = (): string => mkdtempSync(path.join(tmpdir(), 'podtrace-runset-'));

describe('RunSetWriter', () => {
  it('writes, run by run, the same bytes as rendering the whole run set at the end', async () => {
    const root = dir();
    const file = path.join(root, 'traces', 'watch.runset.json');
    const writer = new RunSetWriter(file, head);
    for (const t of traces) writer.append(renderRunElement(t));
    const whole = renderRunSetJson(makeRunSet(traces, head.label, head.toolVersion));
    expect(writer.text()).toBe(whole);
    await writer.finish();
    expect(readFileSync(file, 'utf8')).toBe(whole);
    expect(readdirSync(path.dirname(file))).toEqual(['watch.runset.json']);
    expect(parseRunSetOrTrace(readFileSync(file, 'utf8'), 'x').runs.map((r) => r.pod.name)).toEqual(traces.map((t) => t.pod.name));
  });

  it('flushes to disk as the file grows, so the last fsync has little left; the bytes stay the same', async () => {
    const root = dir();
    const file = path.join(root, 'set.json');
    const probe = await open(path.join(root, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const datasync = vi.spyOn(proto, 'datasync');
    try {
      const sizes = traces.map((t) => renderRunElement(t).length);
      // a flush once two runs' worth is written: after the second append only
      expect(sizes[2]).toBeLessThan(sizes[0]! + sizes[1]!);
      const writer = new RunSetWriter(file, head, { syncEveryBytes: sizes[0]! + sizes[1]! + 2 });
      writer.append(renderRunElement(traces[0]!));
      // asking for the text on the way does not freeze it
      expect(parseRunSetOrTrace(writer.text(), 'x').runs).toHaveLength(1);
      writer.append(renderRunElement(traces[1]!));
      writer.append(renderRunElement(traces[2]!));
      expect(writer.text()).toBe(renderRunSetJson(makeRunSet(traces, head.label, head.toolVersion)));
      await writer.finish();
      expect(datasync).toHaveBeenCalledTimes(1);
      expect(readFileSync(file, 'utf8')).toBe(renderRunSetJson(makeRunSet(traces, head.label, head.toolVersion)));
    } finally {
      datasync.mockRestore();
    }
  });

  it('writes the file again when a run already written changed (a late event), the others as rendered', async () => {
    const root = dir();
    const file = path.join(root, 'set.json');
    const writer = new RunSetWriter(file, head);
    const indexes = traces.map((t) => writer.append(renderRunElement(t)));
    expect(indexes).toEqual([0, 1, 2]);
    const later = { ...traces[1]!, anomalies: [...traces[1]!.anomalies, { kind: 'missing-event' as const, explanation: 'arrived late' }] };
    writer.replace(1, renderRunElement(traces[1]!)); // unchanged: nothing to do
    writer.replace(1, renderRunElement(later));
    await writer.finish();
    expect(readFileSync(file, 'utf8')).toBe(renderRunSetJson(makeRunSet([traces[0]!, later, traces[2]!], head.label, head.toolVersion)));
    expect(readdirSync(root)).toEqual(['set.json']);
  });

  it('shows nothing at the target until finished, and abort leaves nothing (not even the directory)', async () => {
    const root = dir();
    const file = path.join(root, 'out', 'set.json');
    const untouched = new RunSetWriter(file, head);
    await untouched.abort();
    expect(readdirSync(root)).toEqual([]);

    const writer = new RunSetWriter(file, head);
    writer.append(renderRunElement(traces[0]!));
    writer.append(renderRunElement(traces[1]!));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readdirSync(path.join(root, 'out')).filter((f) => f === 'set.json')).toEqual([]);
    expect(readdirSync(path.join(root, 'out'))).toHaveLength(1); // the temp file
    await writer.abort();
    expect(readdirSync(path.join(root, 'out'))).toEqual([]);
  });

  it('fails with a one-line FileWriteError (exit 8) and removes its temp file', async () => {
    const root = dir();
    const target = path.join(root, 'is-a-dir');
    mkdirSync(target);
    const writer = new RunSetWriter(target, head);
    writer.append(renderRunElement(traces[0]!));
    const error = await writer.finish().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileWriteError);
    expect((error as FileWriteError).exitCode).toBe(8);
    expect((error as Error).message).toMatch(/cannot write .*is-a-dir/);
    expect(readdirSync(root)).toEqual(['is-a-dir']);
  });
});
