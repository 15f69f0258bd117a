/**
 * The probe's OpenMetrics text, from traces of real recordings: histograms per metric with node and
 * image labels, exemplars with the run's trace id, counters per outcome, the last outcome, bounds.
 */
import { describe, expect, it } from 'vitest';
import { BUCKETS, MAX_NODES, ProbeMetrics } from '../../../src/report/openmetrics.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import type { Trace } from '../../../src/trace/types.js';
import { loadFixture } from '../trace/recording-files.js';

function traceOf(file: string): Trace {
  const { header, observations } = loadFixture(file);
  return reconstruct(header, observations);
}

describe('ProbeMetrics', () => {
  const cold = traceOf('ready-expose-pod-reach.ndjson');
  const failed = traceOf('crash-loop-crash.ndjson');
  const m = new ProbeMetrics(['nginx']);
  m.roundStarted(0);
  m.addRun(cold, 1_800_000_000_000);
  m.roundStarted(2500);
  m.addRun(failed, 1_800_000_060_000);
  m.countOutcome('unreachable');
  const text = m.render();
  const lines = text.split('\n');

  it("a histogram per metric, labelled by node and image, its buckets cumulative, an exemplar with the run's trace id", () => {
    const ready = cold.outcome.readyAfterMs! / 1000;
    const node = cold.node!.name;
    expect(lines).toContain('# TYPE podtrace_ready_seconds histogram');
    const bucket = (le: string) => lines.find((l) => l.startsWith(`podtrace_ready_seconds_bucket{node="${node}",image="nginx",le="${le}"} `));
    const firstAbove = BUCKETS.find((b) => b >= ready)!;
    const label = Number.isInteger(firstAbove) ? `${firstAbove}.0` : String(firstAbove);
    expect(bucket(label)).toMatch(new RegExp(` 1 # \\{trace_id="${cold.run.otel!.traceId}"\\} ${ready.toFixed(3).replace('.', '\\.')}\\d* 1800000000$`));
    expect(bucket('0.05')).toBe(`podtrace_ready_seconds_bucket{node="${node}",image="nginx",le="0.05"} 0`);
    expect(lines).toContain(`podtrace_ready_seconds_count{node="${node}",image="nginx"} 1`);
    // a crash loop has no ready time, but its steps before are measured
    expect(text).toMatch(/podtrace_sandbox_seconds_count\{node="podtrace-node",image="other"\} 1/);
  });

  it('counts runs per outcome (and errors before a trace), the last outcome as a stateset, late rounds', () => {
    expect(lines).toEqual(expect.arrayContaining(['podtrace_probe_runs_total{outcome="ready"} 1', 'podtrace_probe_runs_total{outcome="crash-loop"} 1', 'podtrace_probe_runs_total{outcome="unreachable"} 1']));
    expect(lines).toEqual(expect.arrayContaining(['podtrace_probe_last_outcome{podtrace_probe_last_outcome="unreachable"} 1', 'podtrace_probe_last_outcome{podtrace_probe_last_outcome="ready"} 0']));
    expect(lines).toEqual(expect.arrayContaining(['podtrace_probe_rounds_total 2', 'podtrace_probe_rounds_delayed_total 1', 'podtrace_probe_round_delay_seconds_total 2.5']));
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('bounded: at most MAX_NODES node values, the rest "other"', () => {
    const many = new ProbeMetrics(['nginx']);
    for (let i = 0; i < MAX_NODES + 5; i++) many.addRun({ ...cold, node: { ...cold.node!, name: `node-${i}` } }, 0);
    const nodes = new Set([...many.render().matchAll(/podtrace_ready_seconds_count\{node="([^"]+)"/g)].map((x) => x[1]));
    expect(nodes.size).toBe(MAX_NODES + 1);
    expect(nodes.has('other')).toBe(true);
  });
});
