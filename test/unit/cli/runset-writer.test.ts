import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { open } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { renderRunElement, RunSetWriter, writeRunSetYaml } from '../../../src/commands/runset-writer.js';
import { FileWriteError } from '../../../src/errors.js';
import { renderRunSetJson, renderRunSetYaml } from '../../../src/report/runset-summary.js';
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
    await writer.finish();
    expect(readFileSync(file, 'utf8')).toBe(whole);
    // read back for stdout, in pieces, the same text; and run by run, each element
    let copied = '';
    await writer.copyTo({ write: (text: string) => (copied += text) });
    expect(copied).toBe(whole);
    const elements: string[] = [];
    for await (const e of writer.elements()) elements.push(e);
    expect(elements).toEqual(traces.map(renderRunElement));
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
      writer.append(renderRunElement(traces[1]!));
      writer.append(renderRunElement(traces[2]!));
      expect(writer.count).toBe(3);
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
    writer.replace(1, renderRunElement(traces[1]!));
    writer.replace(1, renderRunElement(later)); // the last replacement counts
    expect(() => writer.replace(3, renderRunElement(later))).toThrow(RangeError);
    await writer.finish();
    const whole = renderRunSetJson(makeRunSet([traces[0]!, later, traces[2]!], head.label, head.toolVersion));
    expect(readFileSync(file, 'utf8')).toBe(whole);
    expect(readdirSync(root)).toEqual(['set.json']);
    // where each run is was worked out again for the new file
    const elements: string[] = [];
    for await (const e of writer.elements()) elements.push(e);
    expect(elements).toEqual([traces[0]!, later, traces[2]!].map(renderRunElement));
  });

  it('reads back a run set with text outside ASCII byte for byte (offsets in bytes, pieces cut inside a character)', async () => {
    const root = dir();
    const file = path.join(root, 'set.json');
    const labelled = { ...head, label: 'app=wéb · ünïcode in default' };
    const writer = new RunSetWriter(file, labelled);
    const odd = { ...traces[0]!, anomalies: [{ kind: 'missing-event' as const, explanation: 'ä → ✓ 𝄞' }] };
    for (const t of [odd, traces[1]!, odd]) writer.append(renderRunElement(t));
    await writer.finish();
    const whole = renderRunSetJson(makeRunSet([odd, traces[1]!, odd], labelled.label, labelled.toolVersion));
    expect(readFileSync(file, 'utf8')).toBe(whole);
    const elements: string[] = [];
    for await (const e of writer.elements()) elements.push(e);
    expect(elements.map((e) => JSON.parse(e).pod.name)).toEqual([odd, traces[1]!, odd].map((t) => t.pod.name));
    expect(JSON.parse(elements[2]!).anomalies[0].explanation).toBe('ä → ✓ 𝄞');
    // in pieces of 7 bytes, most of the multi-byte characters are cut in two: none is broken
    const pieces: string[] = [];
    await writer.copyTo({ write: (text: string) => pieces.push(text) }, 7);
    expect(pieces.length).toBeGreaterThan(100);
    expect(pieces.join('')).toBe(whole);
  });

  it('YAML from the runs read back one at a time is renderRunSetYaml of the whole set', async () => {
    const root = dir();
    const file = path.join(root, 'set.json');
    const writer = new RunSetWriter(file, head);
    for (const t of traces) writer.append(renderRunElement(t));
    await writer.finish();
    let yaml = '';
    await writeRunSetYaml({ write: (text: string) => (yaml += text) }, head, writer.elements());
    expect(yaml).toBe(renderRunSetYaml({ ...makeRunSet(traces, head.label, head.toolVersion), createdAt: head.createdAt }));
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
