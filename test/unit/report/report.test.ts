import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderJson, renderTable, renderWaterfall, renderYaml, TRACE_KEY_ORDER } from '../../../src/report/index.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseRecording } from '../../../src/trace/recording.js';
import type { Trace } from '../../../src/trace/types.js';
import { allRecordings } from '../trace/recording-files.js';

const ESC = '\u001b';
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

const traces: Array<[string, Trace]> = allRecordings().map((r) => {
  const { header, observations } = parseRecording(r.text);
  return [r.name, reconstruct(header, observations)];
});

describe.each(traces)('renderers on %s', (_name, trace) => {
  it.each([60, 80, 120, 200])('table fits %i columns and has no escape codes without color', (width) => {
    const out = renderTable(trace, { color: false, width });
    expect(out).not.toContain(ESC);
    for (const line of out.split('\n')) expect(line.length, line).toBeLessThanOrEqual(width);
    for (const m of trace.milestones) expect(out).toContain(m.label.split(' ')[0]);
    expect(out).toMatch(/✔ Ready|✘ |… in progress/);
  });

  it('colors only when asked, and the text under the color is the same', () => {
    const plain = renderTable(trace, { color: false, width: 100 });
    const colored = renderTable(trace, { color: true, width: 100 });
    expect(colored).toContain(ESC);
    expect(stripAnsi(colored)).toBe(plain);
  });

  it('draws one waterfall bar per phase', () => {
    const out = renderWaterfall(trace, { color: false, width: 90 });
    const lines = out.split('\n');
    expect(lines).toHaveLength(trace.phases.length + 2);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(90);
    lines.slice(0, -2).forEach((line) => expect(line).toMatch(/[█▏▎▍▌▋▊▉]/));
  });

  it('json: stable key order, 2-space indent, parses back', () => {
    const out = renderJson(trace);
    expect(Object.keys(JSON.parse(out))).toEqual(TRACE_KEY_ORDER);
    expect(out.split('\n')[1]).toBe('  "schemaVersion": 1,');
    expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(trace)));
    const shuffled = Object.fromEntries(Object.entries(trace).reverse()) as unknown as Trace;
    expect(renderJson(shuffled)).toBe(out);
  });

  it('yaml carries the same data', () => {
    expect(parseYaml(renderYaml(trace))).toEqual(JSON.parse(renderJson(trace)));
  });
});
