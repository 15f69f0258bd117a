import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderJson, renderYaml, TRACE_KEY_ORDER } from '../../../src/report/serialize.js';
import { renderTable } from '../../../src/report/table.js';
import { renderWaterfall } from '../../../src/report/waterfall.js';
import { truncate } from '../../../src/report/style.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseRecording } from '../../../src/trace/recording.js';
import type { Trace } from '../../../src/trace/types.js';
import { fixtureRecordings, loadFixture } from '../trace/recording-files.js';

const ESC = '\u001b';
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

const traces: Array<[string, Trace]> = fixtureRecordings().map((r) => {
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

  it('labels waterfall rows like the table: the milestone label, not its id', () => {
    const out = renderWaterfall(trace, { color: false, width: 200 });
    const labels = out.split('\n').slice(0, -2).map((l) => l.slice(0, 36).trim());
    const byId = new Map(trace.milestones.map((m) => [m.id, m.label]));
    const steps = trace.phases.filter((p) => p.kind === 'step');
    // A container step too long for the column drops its "container " (or "init container ", "sidecar ") prefix, so the step itself stays readable.
    const shown = (p: (typeof steps)[number]) => {
      const label = byId.get(p.to!)!;
      return truncate(label.length > 36 && p.container ? label.replace(/^(?:init container|container|sidecar) /, '') : label, 36);
    };
    expect(labels.slice(0, steps.length)).toEqual(steps.map(shown));
    for (const m of trace.milestones) expect(out).not.toContain(m.id);
  });

  it('json: stable key order, 2-space indent, parses back', () => {
    const out = renderJson(trace);
    // every key in its place; the optional ones (service: --expose only) when present
    expect(Object.keys(JSON.parse(out))).toEqual(TRACE_KEY_ORDER.filter((k) => (k !== 'service' && k !== 'observed' && k !== 'spans' && k !== 'metrics' && k !== 'explain') || trace[k] !== undefined));
    expect(out.split('\n')[1]).toBe('  "schemaVersion": 1,');
    expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(trace)));
    const shuffled = Object.fromEntries(Object.entries(trace).reverse()) as unknown as Trace;
    expect(renderJson(shuffled)).toBe(out);
  });

  it('yaml carries the same data', () => {
    expect(parseYaml(renderYaml(trace))).toEqual(JSON.parse(renderJson(trace)));
  });
});

describe('report notes', () => {
  it('warns when podtrace may not delete pods: cleanup is impossible', () => {
    const { header, observations } = loadFixture('ready-nginx.ndjson');
    const denied = observations.map((o) =>
      o.type === 'access-review' && o.data?.verb === 'delete' ? { ...o, data: { ...o.data, allowed: false } } : o,
    );
    const out = renderTable(reconstruct(header, denied), { color: false, width: 200 });
    expect(out).toContain(`! not allowed to delete pods in default: podtrace cannot clean up after itself; delete the pod yourself: kubectl delete pod -n default ${header.podName}`);
    expect(out).toMatch(/may delete pods \(access review\).*delete pods: not allowed/);
    expect(renderTable(reconstruct(header, observations), { color: false, width: 200 })).not.toContain('not allowed to delete');
  });

  it('shows a coarse time capped by a precise one as bounded', () => {
    const { header, observations } = loadFixture('ready-nginx.ndjson');
    const out = renderTable(reconstruct(header, observations), { color: false, width: 200 });
    expect(out).toMatch(/pod sandbox and network ready\s*│\s*\+495ms\s*│.*│ bounded ±\d+ms\s*│ podIP 198\.18\.0\.10; before container\.nginx\.pulling/);
    expect(out).not.toContain('negative-duration');
  });

  it('puts the waterfall, a bar per step on one time axis, under the table', () => {
    const { header, observations } = loadFixture('ready-nginx.ndjson');
    const trace = reconstruct(header, observations);
    const out = renderTable(trace, { color: false, width: 120 });
    const waterfall = renderWaterfall(trace, { color: false, width: 120 });
    expect(out).toContain(waterfall);
    expect(out.indexOf(waterfall)).toBeGreaterThan(out.indexOf('└'));
    expect(waterfall).toMatch(/^pod sandbox and network ready +█+/m);
    expect(waterfall).toMatch(/t0 = POST sent/);
  });

  it('gives each step its source and that source’s precision', () => {
    const { header, observations } = loadFixture('ready-nginx.ndjson');
    const trace = reconstruct(header, observations);
    const out = renderTable(trace, { color: false, width: 200 });
    expect(out).toMatch(/│ source\/precision\s*│/);
    expect(out).toMatch(/scheduled to a node\s*│.*│ event name ±1ns\s*│/);
    // a watch sighting is as precise as the slowest delivery measured in the run (here 33 ms, an event)
    expect(trace.clock.delivery).toMatchObject({ maxMs: expect.closeTo(33, 0) });
    expect(out).toMatch(/API server stored the pod\s*│.*│ watch ±33ms\s*│/);
    expect(out).toMatch(/POST pod sent\s*│.*│ client ±1µs\s*│/);
    const sandbox = trace.milestones.find((m) => m.id === 'runtime.sandbox-ready')!;
    expect(out).toContain(`bounded ±${Math.round(sandbox.precisionMs)}ms`);
  });

  it('says how long the POST took to answer, and what the node was', () => {
    const { header, observations } = loadFixture('ready-nginx.ndjson');
    const trace = reconstruct(header, observations);
    const out = renderTable(trace, { color: false, width: 200 });
    const roundTrip = trace.phases.find((p) => p.id === 'api.post-round-trip')!;
    expect(out).toContain(`POST → 201 response in ${Math.round(roundTrip.durationMs)}ms (client clock)`);
    expect(out).toContain('node podtrace-node: kubelet v1.34.12, containerd://1.6.20, Debian GNU/Linux 12 (bookworm), kernel 6.18.44-fc-v595, amd64');
    expect(out).toContain('  conditions at start: MemoryPressure=False DiskPressure=False PIDPressure=False Ready=True');
    expect(out).toContain('  requests vs allocatable: pods 1 of 110; QoS BestEffort');
  });

  it('lists the node’s condition changes during the run', () => {
    const { header, observations } = loadFixture('ready-nginx.ndjson');
    const trace = reconstruct(header, observations);
    expect(trace.node!.conditionChanges).toEqual([]);
    trace.node!.conditionChanges.push({ type: 'Ready', status: 'False', previousStatus: 'True', reason: 'KubeletNotReady', at: trace.run.t0 + 3200, offsetMs: 3200 });
    const out = renderTable(trace, { color: false, width: 200 });
    expect(out).toContain('  +3.20s Ready True → False (KubeletNotReady)');
  });
});
