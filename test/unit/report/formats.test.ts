import { describe, expect, it } from 'vitest';
import { aggregate, renderReportJson } from '../../../src/report/aggregate.js';
import { chromeTrace, COMPONENT_TID, renderChromeTrace, type ChromeTrace, type TraceEvent } from '../../../src/report/chrome-trace.js';
import { CSV_COLUMNS, renderCsv } from '../../../src/report/csv.js';
import { renderHtml } from '../../../src/report/html.js';
import { renderMarkdown } from '../../../src/report/markdown.js';
import { otlpTraces, renderOtlp, ROOT_SPAN_NAME, unixNanos, type OtlpTraces } from '../../../src/report/otlp.js';
import { renderReport, REPORT_FORMATS } from '../../../src/report/render-report.js';
import { renderReportTable } from '../../../src/report/report-table.js';
import { failingStep, steps } from '../../../src/report/run-facts.js';
import { diff } from '../../../src/analysis/diff.js';
import { METRICS, traceMetrics } from '../../../src/analysis/metrics.js';
import { makeRunSet, type RunSet } from '../../../src/analysis/runset.js';
import { quantile } from '../../../src/analysis/stats.js';
import type { Trace } from '../../../src/trace/types.js';
import { ALL_TRACES, fixtureSets, parseCsv, reportSchemaErrors, traceOf } from './fixture-sets.js';

const { ready, failed, all } = fixtureSets();
const runsOf = (sets: readonly RunSet[]) => sets.flatMap((s) => s.runs);

describe('fixtures', () => {
  it('cover ready and failed runs', () => {
    expect(ready.runs.length).toBeGreaterThanOrEqual(3);
    expect(failed.runs.length).toBeGreaterThanOrEqual(5);
    expect(failed.runs.some((t) => failingStep(t) !== undefined)).toBe(true);
  });
});

describe('json aggregate', () => {
  it('matches schema/report.schema.json and the runs it summarizes', () => {
    const report = JSON.parse(renderReportJson(aggregate([all])));
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report.kind).toBe('podtrace-report');
    expect(report.schemaVersion).toBe(1);
    const set = report.sets[0];
    expect(set.runs).toBe(all.runs.length);
    expect(Object.values(set.outcomes as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(all.runs.length);
    expect(set.outcomes.ready).toBe(ready.runs.length);
    // every metric some run has, with its quantiles over exactly those runs
    for (const m of METRICS) {
      const values = all.runs.map((t) => traceMetrics(t)[m.name]).filter((v): v is number => v !== undefined);
      if (values.length === 0) {
        expect(set.metrics[m.name]).toBeUndefined();
        continue;
      }
      expect(set.metrics[m.name].n).toBe(values.length);
      expect(set.metrics[m.name].median).toBeCloseTo(quantile(values, 0.5), 3);
      expect(set.metrics[m.name].p90).toBeCloseTo(quantile(values, 0.9), 3);
      expect(set.metrics[m.name].max).toBeCloseTo(Math.max(...values), 3);
    }
    expect(Object.keys(set.metrics)).toEqual(METRICS.map((m) => m.name).filter((n) => n in set.metrics));
  });

  it('carries the diff of two sets, and the schema holds it', () => {
    const d = diff(ready, failed);
    const report = JSON.parse(renderReportJson(aggregate([ready, failed], d)));
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report.sets.map((s: { label: string }) => s.label)).toEqual(['ready runs', 'failed runs']);
    expect(report.diff.a).toEqual({ label: 'ready runs', runs: ready.runs.length });
    expect(report.diff.metrics.map((m: { metric: string }) => m.metric)).toContain('ready');
  });

  it('the schema rejects what is not a report', () => {
    const report = JSON.parse(renderReportJson(aggregate([ready])));
    expect(reportSchemaErrors({ ...report, schemaVersion: 2 })).not.toEqual([]);
    expect(reportSchemaErrors({ ...report, sets: [{ ...report.sets[0], metrics: { nosuch: report.sets[0].metrics.ready } }] })).not.toEqual([]);
    expect(reportSchemaErrors({ ...report, extra: true })).not.toEqual([]);
  });
});

describe('csv', () => {
  const sets = [ready, failed];
  const rows = parseCsv(renderCsv(sets));
  const [head, ...body] = rows;
  const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);

  it('has the documented header and one row per run and metric, per run and phase, per explained step or cause, and per observed restart or probe failure', () => {
    expect(head).toEqual(['set', 'run', 'pod', 'metric', 'kind', 'from', 'to', 'start_ms', 'duration_ms', 'source', 'precision_ms', 'outcome']);
    const observed = (t: Trace) => (t.observed?.restarts.length ?? 0) + (t.observed?.probeFailures.length ?? 0);
    const why = (t: Trace) => (t.explain?.parts.length ?? 0) + (t.outcome.cause ? 1 : 0);
    const expected = runsOf(sets).reduce((n, t) => n + Object.keys(traceMetrics(t)).length + t.phases.length + observed(t) + why(t), 0);
    const explained = runsOf(sets).find((t) => t.explain)!;
    expect(explained).toBeDefined();
    const rows = body.filter((r) => r[col('kind')] === 'explain' && r[col('pod')] === explained.pod.name);
    expect(rows.map((r) => [r[col('metric')], Number(r[col('duration_ms')])])).toEqual(explained.explain!.parts.map((p) => [`explain:${p.step}`, p.ms]));
    expect(body).toHaveLength(expected);
    for (const row of body) expect(row).toHaveLength(CSV_COLUMNS.length);
  });

  it('carries each run’s metric values and steps as in the trace', () => {
    sets.forEach((set) =>
      set.runs.forEach((trace, i) => {
        const mine = body.filter((r) => r[col('set')] === set.label && r[col('run')] === String(i + 1));
        expect(new Set(mine.map((r) => r[col('pod')]))).toEqual(new Set([trace.pod.name]));
        expect(new Set(mine.map((r) => r[col('outcome')]))).toEqual(new Set([trace.outcome.class]));
        const metrics = Object.fromEntries(mine.filter((r) => r[col('kind')] === 'metric').map((r) => [r[col('metric')], Number(r[col('duration_ms')])]));
        const expected = traceMetrics(trace);
        expect(Object.keys(metrics)).toEqual(Object.keys(expected));
        for (const [name, v] of Object.entries(expected)) expect(metrics[name]).toBeCloseTo(v, 5);
        const stepRows = mine.filter((r) => r[col('kind')] === 'step');
        const stepPhases = trace.phases.filter((p) => p.kind === 'step');
        expect(stepRows.map((r) => [r[col('from')], r[col('to')]])).toEqual(stepPhases.map((p) => [p.from, p.to]));
        stepRows.forEach((r, k) => {
          expect(Number(r[col('start_ms')])).toBeCloseTo(stepPhases[k]!.startOffsetMs, 5);
          expect(Number(r[col('duration_ms')])).toBeCloseTo(stepPhases[k]!.durationMs, 5);
          const to = trace.milestones.find((m) => m.id === stepPhases[k]!.to)!;
          expect(r[col('source')]).toBe(to.source);
          expect(Number(r[col('precision_ms')])).toBeGreaterThanOrEqual(to.precisionMs);
        });
        expect(mine.filter((r) => r[col('kind')] === 'reported')).toHaveLength(trace.phases.filter((p) => p.kind === 'reported').length);
      }),
    );
  });

  it('numbers never use exponents, and text with commas, quotes or line breaks survives', () => {
    for (const r of body) for (const c of ['start_ms', 'duration_ms', 'precision_ms'] as const) expect(r[col(c)]).toMatch(/^(-?\d+(\.\d+)?)?$/);
    const odd = makeRunSet(ready.runs.slice(0, 1), 'nginx, "warm"\nrun', '0.1.0');
    const parsed = parseCsv(renderCsv([odd]));
    expect(new Set(parsed.slice(1).map((r) => r[0]))).toEqual(new Set(['nginx, "warm"\nrun']));
  });
});

describe('markdown', () => {
  it('has one compact table per set, a row per metric', () => {
    const md = renderMarkdown(aggregate([ready, failed]));
    const heads = md.split('\n').filter((l) => l === '| metric | n | median | p90 | p99 |');
    expect(heads).toHaveLength(2);
    const readyRows = md.split('### failed runs')[0]!.split('\n').filter((l) => /^\| `\w+`/.test(l));
    const expected = METRICS.filter((m) => ready.runs.some((t) => traceMetrics(t)[m.name] !== undefined));
    expect(readyRows.map((l) => /`(\w+)`/.exec(l)![1])).toEqual(expected.map((m) => m.name));
    for (const row of readyRows) expect(row.split(' | ')).toHaveLength(5);
    expect(md).toMatch(/^## podtrace report\n/);
    expect(md).toContain(`${ready.runs.length} runs: ${ready.runs.length} ready`);
    expect(md).not.toContain('podtrace diff');
  });

  it('shows a single run’s values, not quantiles of one', () => {
    const trace = traceOf('ready-nginx.ndjson');
    const md = renderMarkdown(aggregate([makeRunSet([trace], 'one', '0.1.0')]));
    expect(md).toContain('| metric | value |');
    expect(md).not.toContain('p90');
    expect(md).toMatch(/\| `ready` POST to Ready \| 866ms \|/);
  });

  it('adds the diff table for two sets, and escapes labels', () => {
    const a = makeRunSet([traceOf('ready-nginx-warm.ndjson')], 'warm | <b>', '0.1.0');
    const b = makeRunSet([traceOf('ready-nginx-cold.ndjson')], 'cold', '0.1.0');
    const md = renderMarkdown(aggregate([a, b], diff(a, b)));
    expect(md).toContain('### podtrace diff');
    expect(md).toMatch(/\| pull \| 0ms \| 2\.\d\ds \|/);
    expect(md).toContain('warm \\| \\<b\\>');
    expect(md).not.toContain('<b>');
  });
});

describe('html', () => {
  const d = diff(ready, failed);
  const html = renderHtml({ sets: [ready, failed], report: aggregate([ready, failed], d), toolVersion: '0.1.0' });

  it('is one self-contained page: no external resource, no script', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("default-src 'none'");
    const refs = [...html.matchAll(/\b(?:src|href|xlink:href|action|poster)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]);
    expect(refs.filter((r) => !r!.startsWith('#') && !r!.startsWith('data:'))).toEqual([]);
    expect(html).not.toMatch(/url\(|@import|<link|<script|<iframe|<img/i);
  });

  it('draws a waterfall per run, a bar per phase', () => {
    const articles = html.split('<article ').slice(1);
    const runs = runsOf([ready, failed]);
    expect(articles).toHaveLength(runs.length);
    articles.forEach((a, i) => {
      const trace = runs[i]!;
      expect(a).toContain('data-testid="waterfall"');
      expect(a).toContain(`data-pod="${trace.pod.name}"`);
      expect(a).toContain(`data-outcome="${trace.outcome.class}"`);
      expect(a).toContain('<svg');
      expect(a.match(/data-testid="waterfall-bar"/g)?.length ?? 0).toBe(trace.phases.length);
      const fail = failingStep(trace);
      if (fail) expect(a).toContain(`data-phase="${fail.id.replaceAll('>', '&gt;')}" data-kind="step" data-component="${fail.component}" data-failing="true"`);
    });
  });

  it('has a distribution row per metric and the diff table', () => {
    const metrics = METRICS.filter((m) => runsOf([ready, failed]).some((t) => traceMetrics(t)[m.name] !== undefined));
    const rows = [...html.matchAll(/data-testid="metric-row" data-metric="(\w+)"/g)].map((m) => m[1]);
    expect(rows).toEqual(metrics.map((m) => m.name));
    expect(html.match(/data-testid="distribution"/g)).toHaveLength(metrics.length);
    expect(html).toContain('data-testid="diff"');
    expect(html.match(/data-testid="diff-row"/g)).toHaveLength(d.metrics.length);
    expect(html).toContain('data-fact="kubelet"');
    expect(html).toContain('v1.34.12');
  });

  it('escapes what the cluster wrote', () => {
    const trace = traceOf('ready-nginx.ndjson');
    const hostile: Trace = { ...trace, pod: { ...trace.pod, name: '<script>alert(1)</script>' }, outcome: { ...trace.outcome, message: '"><img src=x>' } };
    const out = renderHtml({ sets: [makeRunSet([hostile], 'a&b', '0.1.0')], report: aggregate([makeRunSet([hostile], 'a&b', '0.1.0')]), toolVersion: '0.1.0' });
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('<img');
    expect(out).toContain('&lt;script&gt;');
    expect(out).toContain('a&amp;b');
    expect(out).not.toContain('data-testid="diff"');
  });
});

describe('chrome-trace', () => {
  const sets = [ready, failed];
  const parsed = JSON.parse(renderChromeTrace(sets, '0.1.0')) as ChromeTrace;
  const events = parsed.traceEvents;
  const runs = runsOf(sets);

  it('is the JSON object format with ms display and non-negative µs times', () => {
    expect(parsed.displayTimeUnit).toBe('ms');
    expect(Array.isArray(events)).toBe(true);
    for (const e of events.filter((x) => x.ph !== 'M')) {
      expect(Number.isInteger(e.ts), JSON.stringify(e)).toBe(true);
      expect(e.ts!).toBeGreaterThanOrEqual(0);
      if (e.ph === 'X') expect(Number.isInteger(e.dur) && e.dur! >= 0).toBe(true);
    }
  });

  it('names one process per run after its pod, and a thread per component', () => {
    runs.forEach((trace, i) => {
      const pid = i + 1;
      const name = events.find((e) => e.ph === 'M' && e.name === 'process_name' && e.pid === pid);
      expect(name?.args?.name).toBe(`${i < ready.runs.length ? ready.label : failed.label}: ${trace.pod.name}`);
      const threads = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid);
      for (const t of threads) expect(COMPONENT_TID[t.args!.name as keyof typeof COMPONENT_TID]).toBe(t.tid);
      const used = new Set(events.filter((e) => e.pid === pid && e.ph !== 'M' && e.tid !== 0).map((e) => e.tid));
      expect(new Set(threads.map((t) => t.tid))).toEqual(used);
    });
  });

  it('has a slice per step, timed as the trace, and an instant per milestone', () => {
    const postTs = parsed.otherData.postTs;
    runs.forEach((trace, i) => {
      const pid = i + 1;
      const slices = events.filter((e) => e.pid === pid && e.ph === 'X');
      const runSteps = steps(trace);
      expect(slices).toHaveLength(runSteps.length);
      slices.forEach((s, k) => {
        const step = runSteps[k]!;
        expect(s.args?.step).toBe(step.id);
        expect(s.tid).toBe(COMPONENT_TID[step.component!]);
        expect(Math.abs(s.ts! - postTs - step.startOffsetMs * 1000)).toBeLessThanOrEqual(1);
        expect(Math.abs(s.dur! - step.durationMs * 1000)).toBeLessThanOrEqual(2);
        expect(s.args?.source).toBe(trace.milestones.find((m) => m.id === step.to)!.source);
        expect(typeof s.args?.precisionMs).toBe('number');
      });
      const instants = events.filter((e) => e.pid === pid && e.ph === 'i' && e.cat === 'milestone');
      expect(instants.map((e) => e.args?.id)).toEqual(trace.milestones.map((m) => m.id));
      const post = instants.find((e) => e.args?.id === 'api.post-sent');
      if (post) expect(post.ts).toBe(postTs);
    });
  });

  it('never overlaps two slices on one track (Perfetto drops improperly nested ones)', () => {
    const tracks = new Map<string, TraceEvent[]>();
    for (const e of events.filter((x) => x.ph === 'X')) tracks.set(`${e.pid}/${e.tid}`, [...(tracks.get(`${e.pid}/${e.tid}`) ?? []), e]);
    for (const list of tracks.values()) {
      const sorted = [...list].sort((a, b) => a.ts! - b.ts!);
      for (let k = 1; k < sorted.length; k++) expect(sorted[k]!.ts!).toBeGreaterThanOrEqual(sorted[k - 1]!.ts! + sorted[k - 1]!.dur!);
    }
  });

  it('is the same every time', () => {
    expect(JSON.stringify(chromeTrace(sets, '0.1.0'))).toBe(JSON.stringify(parsed));
  });
});

describe('otlp', () => {
  const sets = [ready, failed];
  const parsed = JSON.parse(renderOtlp(sets, '0.1.0')) as OtlpTraces;
  const runs = runsOf(sets);
  const attrs = (list: Array<{ key: string; value: Record<string, unknown> }>) => Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));
  // podtrace's own resource per pod; the components' spans copied into a run's trace come as resources of their own
  const podtrace = parsed.resourceSpans.filter((rs) => attrs(rs.resource.attributes)['service.name'] === 'podtrace');
  const copies = parsed.resourceSpans.filter((rs) => attrs(rs.resource.attributes)['service.name'] !== 'podtrace');

  it('has one resource per pod, with its Kubernetes attributes', () => {
    expect(podtrace).toHaveLength(runs.length);
    podtrace.forEach((rs, i) => {
      const a = attrs(rs.resource.attributes);
      expect(a['service.name']).toBe('podtrace');
      expect(a['k8s.pod.name']).toBe(runs[i]!.pod.name);
      expect(a['k8s.namespace.name']).toBe(runs[i]!.pod.namespace);
      if (runs[i]!.pod.nodeName) expect(a['k8s.node.name']).toBe(runs[i]!.pod.nodeName);
      expect(rs.scopeSpans).toHaveLength(1);
      expect(rs.scopeSpans[0]!.scope.name).toBe('podtrace');
    });
  });

  it("copies the components' spans that are not in the run's trace into it, each component as its service", () => {
    const withSpans = runs.filter((t) => t.spans && t.spans.steps.length > 0);
    expect(withSpans.length).toBeGreaterThan(0);
    const kubelet = copies.filter((rs) => attrs(rs.resource.attributes)['service.name'] === 'kubelet');
    expect(kubelet.length).toBe(withSpans.length);
    for (const rs of kubelet) {
      const names = rs.scopeSpans[0]!.spans.map((x) => x.name);
      expect(names).toEqual(expect.arrayContaining(['syncPod', 'runtime.v1.RuntimeService/RunPodSandbox']));
      for (const x of rs.scopeSpans[0]!.spans) expect(attrs(x.attributes)['podtrace.copied_from']).toMatch(/^[0-9a-f]{32}\/[0-9a-f]{16}$/);
    }
  });

  it('one trace id per pod, a root span and one child span per step', () => {
    const traceIds = new Set<string>();
    podtrace.forEach((rs, i) => {
      const trace = runs[i]!;
      const spans = rs.scopeSpans[0]!.spans;
      const ids = new Set(spans.map((s) => s.traceId));
      expect(ids.size).toBe(1);
      const [traceId] = [...ids];
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(traceId).not.toMatch(/^0+$/);
      traceIds.add(traceId!);
      const requests = (trace.run.otel?.requests ?? []).filter((r) => r.durationMs !== undefined).length;
      expect(spans).toHaveLength(steps(trace).length + 1 + requests);
      const roots = spans.filter((s) => s.parentSpanId === undefined);
      expect(roots).toHaveLength(1);
      const root = roots[0]!;
      expect(root.name).toBe(ROOT_SPAN_NAME);
      expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
      for (const s of spans) {
        expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(s.startTimeUnixNano).toMatch(/^\d{19}$/);
        expect(s.endTimeUnixNano).toMatch(/^\d{19}$/);
        expect(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano)).toBe(true);
        if (s === root) continue;
        expect(s.parentSpanId).toBe(root.spanId);
        expect(BigInt(s.startTimeUnixNano) >= BigInt(root.startTimeUnixNano)).toBe(true);
        expect(BigInt(s.endTimeUnixNano) <= BigInt(root.endTimeUnixNano)).toBe(true);
      }
      steps(trace).forEach((step, k) => {
        const span = spans[k + 1]!;
        const from = trace.milestones.find((m) => m.id === step.from)!;
        expect(attrs(span.attributes)['podtrace.step']).toBe(step.id);
        expect(attrs(span.attributes)['podtrace.component']).toBe(step.component);
        expect(attrs(span.attributes)['podtrace.source']).toBe(trace.milestones.find((m) => m.id === step.to)!.source);
        const ns = BigInt(span.startTimeUnixNano);
        expect(Number(ns / 1000n) / 1000).toBeCloseTo(from.at, 2);
        expect(Number(BigInt(span.endTimeUnixNano) - ns) / 1e6).toBeCloseTo(step.durationMs, 2);
      });
    });
    expect(traceIds.size).toBe(runs.length);
  });

  it('marks the failing step and the root of a failed run as errors, and nothing in a ready one', () => {
    podtrace.forEach((rs, i) => {
      const trace = runs[i]!;
      const [root, ...children] = rs.scopeSpans[0]!.spans;
      const errors = children.filter((s) => s.status?.code === 2);
      if (trace.outcome.class === 'ready') {
        expect(root!.status).toEqual({ code: 1 });
        expect(errors).toEqual([]);
      } else if (trace.outcome.class !== 'in-progress') {
        expect(root!.status?.code).toBe(2);
        expect(root!.status?.message).toContain(trace.outcome.class);
        const fail = failingStep(trace);
        expect(errors.map((s) => attrs(s.attributes)['podtrace.step'])).toEqual(fail ? [fail.id] : []);
      }
    });
  });

  it('ids are derived from the pod: the same export twice is identical', () => {
    expect(JSON.stringify(otlpTraces(sets, '0.1.0'))).toBe(JSON.stringify(parsed));
  });

  it('writes whole microseconds as nanoseconds, exactly past 2^53', () => {
    expect(unixNanos(1795539174955.9246)).toBe('1795539174955925000');
    expect(unixNanos(1700000000000)).toBe('1700000000000000000');
    expect(unixNanos(1.9999999)).toBe('2000000');
    expect(unixNanos(1795539174955.0004)).toBe('1795539174955000000');
  });
});

describe('table', () => {
  it('summarizes each set and fits the terminal', () => {
    for (const width of [60, 100, 140]) {
      const out = renderReportTable(aggregate([ready, failed]), { color: false, width });
      expect(out).toContain('ready runs');
      expect(out).toContain('failed runs');
      expect(out).not.toContain('\u001b');
      for (const line of out.split('\n')) expect(line.length, line).toBeLessThanOrEqual(width);
      expect(out).toMatch(/ready\s+│/);
    }
  });

  it('a single run shows its values, not quantiles of one', () => {
    const out = renderReportTable(aggregate([makeRunSet([traceOf('ready-nginx.ndjson')], 'one', '0.1.0')]), { color: false, width: 100 });
    expect(out).toContain('value');
    expect(out).not.toContain('p90');
  });
});

describe('renderReport', () => {
  it('renders every format from real traces', () => {
    for (const format of REPORT_FORMATS) {
      const out = renderReport([ready], format, { toolVersion: '0.1.0' });
      expect(out.length, format).toBeGreaterThan(100);
      expect(out.endsWith('\n')).toBe(true);
    }
  });

  it('handles every recording on its own, whatever its outcome', () => {
    for (const [name, trace] of ALL_TRACES) {
      const set = [makeRunSet([trace], name, '0.1.0')];
      expect(reportSchemaErrors(JSON.parse(renderReport(set, 'json', { toolVersion: '0.1.0' }))), name).toEqual([]);
      for (const format of REPORT_FORMATS) expect(() => renderReport(set, format, { toolVersion: '0.1.0' }), `${name} ${format}`).not.toThrow();
    }
  });
});

describe('--observe in every report format (real recording: an OOM kill after Ready)', () => {
  const trace = traceOf('ready-observe-oom.ndjson');
  const set = [makeRunSet([trace], 'observe', '0.1.0')];
  const restart = trace.observed!.restarts[0]!;

  it('the recording holds an OOMKilled restart and usage samples', () => {
    expect(restart).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    expect(trace.observed!.usage.samples.length).toBeGreaterThan(0);
  });

  it('json: afterReady per run, valid against the schema', () => {
    const report = JSON.parse(renderReport(set, 'json', { toolVersion: '0.1.0' }));
    expect(reportSchemaErrors(report)).toEqual([]);
    expect(report.sets[0].afterReady[0]).toMatchObject({ run: 1, restarts: trace.observed!.restarts.length, restartReasons: expect.arrayContaining(['OOMKilled']) });
    expect(report.sets[0].afterReady[0].peakMemoryBytes).toBeGreaterThan(0);
  });

  it('table, markdown and html show the after-Ready row', () => {
    for (const format of ['table', 'markdown', 'html'] as const) {
      const out = renderReport(set, format, { toolVersion: '0.1.0' });
      expect(out, format).toMatch(/after Ready/i);
      expect(out, format).toContain('OOMKilled');
    }
  });

  it('csv: one observed row per restart, at its offset', () => {
    const [head, ...rows] = parseCsv(renderReport(set, 'csv', { toolVersion: '0.1.0' }));
    const records = rows.map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i]])));
    const observed = records.filter((r) => r['kind'] === 'observed');
    expect(observed[0]).toMatchObject({ metric: 'restart:nginx:OOMKilled exit 137', start_ms: String(restart.offsetMs), source: 'status-field-s' });
  });

  it('chrome-trace: the restart as an instant on the kubelet track, usage as counters', () => {
    const events = chromeTrace(set, '0.1.0').traceEvents;
    expect(events.find((e) => e.name === 'restart nginx: OOMKilled')).toMatchObject({ ph: 'i', tid: COMPONENT_TID.kubelet });
    expect(events.filter((e) => e.ph === 'C').length).toBe(trace.observed!.usage.samples.length);
  });

  it('otlp: the restart as an event of the root span, the peaks as attributes', () => {
    const root = otlpTraces(set, '0.1.0').resourceSpans[0]!.scopeSpans[0]!.spans.find((s) => s.name === ROOT_SPAN_NAME)!;
    expect(root.events!.map((e) => e.name)).toContain('restart nginx: OOMKilled');
    expect(root.attributes.map((a) => a.key)).toContain('podtrace.observed.nginx.memory_peak_bytes');
  });
});
