import { describe, expect, it } from 'vitest';
import { RuleSyntaxError } from '../../../src/analysis/rule-error.js';
import { renderDiffJson, renderDiffMarkdown, renderDiffTable, regressionSummary, verdictText } from '../../../src/report/diff.js';
import { allowedChangeMs, contextDifferences, DEFAULT_THRESHOLDS, diff, parseThresholds } from '../../../src/analysis/diff.js';
import type { MetricDiff, TraceDiff } from '../../../src/analysis/diff-types.js';
import { METRIC_NAMES, traceMetrics } from '../../../src/analysis/metrics.js';
import { quantile } from '../../../src/analysis/stats.js';
import { recordedSet, setOf, traceOf } from './fixtures.js';

const byMetric = (d: TraceDiff): Record<string, MetricDiff> => Object.fromEntries(d.metrics.map((m) => [m.metric, m]));

describe('parseThresholds', () => {
  it('defaults to 10% and 50 ms for every metric', () => {
    expect(parseThresholds([])).toEqual(DEFAULT_THRESHOLDS);
    expect(DEFAULT_THRESHOLDS.default).toEqual({ pct: 10, ms: 50, text: '10% and 50ms' });
  });

  it('reads a global percentage, a global duration, both, and per-metric rules', () => {
    expect(parseThresholds(['10%'])).toEqual({ default: { pct: 10, text: '10%' }, perMetric: {} });
    expect(parseThresholds(['200ms'])).toEqual({ default: { ms: 200, text: '200ms' }, perMetric: {} });
    expect(parseThresholds(['5%', '20ms', 'pull=1s', 'READY=2.5%', 'ready=100ms'])).toEqual({
      default: { pct: 5, ms: 20, text: '5% and 20ms' },
      perMetric: { pull: { ms: 1000, text: 'pull=1s' }, ready: { pct: 2.5, ms: 100, text: 'ready=2.5% and 100ms' } },
    });
    // comma-separated in one flag; a per-metric rule alone keeps the default for the rest
    expect(parseThresholds(['pull=1s,teardown=2s'])).toEqual({
      default: DEFAULT_THRESHOLDS.default,
      perMetric: { pull: { ms: 1000, text: 'pull=1s' }, teardown: { ms: 2000, text: 'teardown=2s' } },
    });
  });

  it.each([
    ['10', /"10" is neither a percentage \(10%\) nor a duration \(200ms, 1s\)/],
    ['ten%', /neither a percentage/],
    ['pull=', /neither a percentage/],
    ['pull=fast', /"fast" is neither/],
    ['pul=1s', /unknown metric "pul"; use one of client, api, schedule, kubelet, sandbox, pull, start, readiness, ready, teardown/],
  ])('%j is a usage error', (spec, message) => {
    expect(() => parseThresholds([spec])).toThrow(RuleSyntaxError);
    expect(() => parseThresholds([spec])).toThrow(message);
  });

  it('refuses two values of one kind for the same target', () => {
    expect(() => parseThresholds(['10%', '5%'])).toThrow(/two percentages for all metrics/);
    expect(() => parseThresholds(['pull=1s', 'pull=2s'])).toThrow(/two durations for pull/);
  });

  it('allows the largest of its parts', () => {
    expect(allowedChangeMs({ pct: 10, ms: 50, text: '' }, 2000)).toBe(200);
    expect(allowedChangeMs({ pct: 10, ms: 50, text: '' }, 100)).toBe(50);
    expect(allowedChangeMs({ pct: 10, text: '' }, 0)).toBe(0);
  });
});

describe('diff of a cold run set against a warm run set (real runs on the local cluster)', () => {
  // A: 4 runs with podtrace/big already on the node; B: 4 runs, each after removing it.
  const warm = recordedSet('big-warm', 'big warm');
  const cold = recordedSet('big-cold', 'big cold');
  const result = diff(warm, cold);
  const m = byMetric(result);

  it('the recordings are what they claim: present on one side, pulled (~1.7 s) on the other', () => {
    expect(warm.runs.map((t) => t.containers[0]!.pull)).toEqual(['present', 'present', 'present', 'present']);
    expect(cold.runs.map((t) => t.containers[0]!.pull)).toEqual(['pulled', 'pulled', 'pulled', 'pulled']);
    for (const t of cold.runs) expect(t.containers[0]!.pullMs).toBeGreaterThan(1000);
    for (const t of [...warm.runs, ...cold.runs]) expect(t.outcome.class).toBe('ready');
  });

  it('reports the pull as the regression, and nothing else', () => {
    expect(result.regressions).toEqual(['pull']);
    expect(result.improvements).toEqual([]);
    expect(m.pull!.verdict).toBe('regression');
    expect(m.pull!.ci!.low).toBeGreaterThan(1000);
    for (const name of ['client', 'api', 'schedule', 'kubelet', 'sandbox', 'start', 'readiness', 'teardown']) {
      expect(['noise', 'within-threshold', 'unchanged'], name).toContain(m[name]!.verdict);
    }
  });

  it('the start as a whole is slower, and that is the pull: ready follows it', () => {
    expect(m.ready!.verdict).toBe('regression');
    expect(m.ready!.explainedBy).toEqual(['pull']);
    expect(m.ready!.ci!.low).toBeGreaterThan(0);
  });

  it('gives per-side summaries, deltas of the medians and intervals that hold them', () => {
    const pullB = cold.runs.map((t) => traceMetrics(t).pull!);
    expect(m.pull!.a).toMatchObject({ n: 4, median: 0, p90: 0, p99: 0 });
    expect(m.pull!.b!.n).toBe(4);
    expect(m.pull!.b!.median).toBeCloseTo(quantile(pullB, 0.5), 3);
    expect(m.pull!.deltaMs).toBeCloseTo(quantile(pullB, 0.5), 3);
    expect(m.pull!.deltaPct).toBeUndefined(); // nothing to divide by
    for (const x of result.metrics) {
      expect(x.ci, x.metric).toBeDefined();
      expect(x.ci!.low).toBeLessThanOrEqual(x.deltaMs! + 1e-6);
      expect(x.ci!.high).toBeGreaterThanOrEqual(x.deltaMs! - 1e-6);
      expect(x.ci).toMatchObject({ level: 0.95, resamples: 2000 });
      expect(x.threshold).toBe('10% and 50ms');
    }
    expect(result.metrics.map((x) => x.metric)).toEqual([...METRIC_NAMES]);
    expect(result.notes).toEqual([]);
  });

  it('noise: a side-by-side overlap gives an interval across 0 (readiness here)', () => {
    expect(m.readiness!.verdict).toBe('noise');
    expect(m.readiness!.ci!.low).toBeLessThan(0);
    expect(m.readiness!.ci!.high).toBeGreaterThan(0);
  });

  it('within-threshold: a real but tiny change (the API round trip moved 2 ms, all four runs apart)', () => {
    expect(m.api!.ci!.low).toBeGreaterThan(0);
    expect(Math.abs(m.api!.deltaMs!)).toBeLessThan(50);
    expect(m.api!.verdict).toBe('within-threshold');
    // with a percentage alone, those 2 ms on a 7.5 ms step are beyond the threshold, but not beyond
    // what the two sides can measure (a run's API step ends at a watch sighting, ± its delivery lag)
    const strict = byMetric(diff(warm, cold, { thresholds: parseThresholds(['10%']) })).api!;
    expect(strict.verdict).toBe('within-error');
    expect(Math.abs(strict.deltaMs!)).toBeLessThanOrEqual(strict.precisionMs!);
    expect(strict.precisionMs).toBeGreaterThan(strict.thresholdMs!);
  });

  it('names what else differs: the pull, and nothing about the node or versions', () => {
    expect(result.context).toEqual([{ what: 'pull', a: ['big: present'], b: ['big: pulled'] }]);
  });

  it('the other way round, the pull is the improvement', () => {
    const back = diff(cold, warm);
    expect(back.regressions).toEqual([]);
    expect(back.improvements).toEqual(['pull']);
    expect(byMetric(back).ready!.explainedBy).toEqual(['pull']);
  });

  it('a threshold above the change makes it within-threshold, and then ready stands on its own', () => {
    const lenient = diff(warm, cold, { thresholds: parseThresholds(['pull=5s']) });
    expect(byMetric(lenient).pull!.verdict).toBe('within-threshold');
    expect(lenient.regressions).toEqual(['ready']);
    expect(byMetric(lenient).ready!.explainedBy).toBeUndefined();
  });

  it('is deterministic: the same inputs give the same intervals', () => {
    expect(diff(warm, cold)).toEqual(result);
    expect(diff(warm, cold, { seed: 1 }).metrics.map((x) => x.ci)).not.toEqual(result.metrics.map((x) => x.ci));
  });

  it('renders: table, markdown, json', () => {
    const table = renderDiffTable(result, { color: false, width: 120 });
    expect(table).toMatch(/^A big warm \(4 runs\)\nB big cold \(4 runs\)\n/);
    expect(table).toMatch(/│ metric +│ +A median │ +B median │ +Δ │ +Δ % │ +95% CI of Δ │ verdict +│/);
    expect(table).toMatch(/│ pull +│ +0ms │ +1\.68s │ +\+1\.68s │ +new │ +\+1\.\d\ds … \+1\.\d\ds │ ▲ regression +│/);
    expect(table).toMatch(/│ ready .*│ ▲ follows pull +│/);
    expect(table).toMatch(/\nregression: pull \+1\.68s \(95% CI \+1\.\d\ds … \+1\.\d\ds; threshold 10% and 50ms\)\n/);
    expect(table).toMatch(/also different:\n  pull: A big: present · B big: pulled\n/);
    expect(table).not.toContain('\u001b');
    // narrower terminals lose the p90/p99 lines, then Δ %, rather than wrap
    for (const width of [80, 100]) {
      const narrow = renderDiffTable(result, { color: true, width });
      for (const line of narrow.split('\n')) expect(line.replace(/\u001b\[[0-9;]*m/g, '').length, line).toBeLessThanOrEqual(width);
    }
    expect(renderDiffTable(result, { color: false, width: 100 })).not.toMatch(/p90/);
    expect(renderDiffTable(result, { color: true, width: 120 })).toContain('\u001b[31m▲ regression');

    const md = renderDiffMarkdown(result);
    expect(md).toMatch(/^## podtrace diff\n\n- \*\*A\*\* big warm \(4 runs\)\n- \*\*B\*\* big cold \(4 runs\)\n\n/);
    expect(md).toContain('| metric | A median | A p90 | A p99 | B median | B p90 | B p99 | Δ | Δ % | 95% CI of Δ | threshold | verdict |');
    expect(md).toMatch(/\n\| pull \| 0ms \| 0ms \| 0ms \| 1\.68s \| .* \| \*\*▲ regression\*\* \|\n/);
    expect(md).toContain('- **pull**: A `big: present` · B `big: pulled`');
    expect(renderDiffMarkdown(result, { headingLevel: 3 })).toMatch(/^### podtrace diff\n/);

    expect(JSON.parse(renderDiffJson(result))).toEqual(JSON.parse(JSON.stringify(result)));
    expect(regressionSummary(result)).toMatch(/^regression: pull \+1\.68s/);
  });
});

describe('diff of single traces (real recordings)', () => {
  const warm = setOf([traceOf('ready-nginx-warm.ndjson')], 'nginx warm');
  const cold = setOf([traceOf('ready-nginx-cold.ndjson')], 'nginx cold');

  it('has no interval and says so; a change beyond the threshold is a regression', () => {
    const result = diff(warm, cold);
    expect(result.metrics.every((x) => x.ci === undefined)).toBe(true);
    expect(result.notes).toEqual([expect.stringMatching(/^A and B have a single run: no confidence interval/)]);
    const m = byMetric(result);
    expect(m.pull!.verdict).toBe('regression');
    expect(m.readiness!.verdict).toBe('regression'); // 138 ms → 465 ms: one run each cannot tell noise apart
    expect(m.api!.verdict).toBe('within-threshold');
    // ready less pull and readiness is still 78 ms slower (sandbox +45, start +35, ...): more than
    // ready's own allowance (10% of 625 ms), so the total is not explained away
    expect(result.regressions).toEqual(['pull', 'readiness', 'ready', 'teardown']);
    expect(m.ready!.explainedBy).toBeUndefined();
    const lenient = diff(warm, cold, { thresholds: parseThresholds(['100ms']) });
    expect(lenient.regressions).toEqual(['pull', 'readiness', 'teardown']);
    expect(byMetric(lenient).ready!.explainedBy).toEqual(['pull', 'readiness']);
  });

  it('n/a when a side never reached the step; unchanged when equal', () => {
    const failed = setOf([traceOf('image-pull-not-found-doesnotexist.ndjson')], 'failed');
    const m = byMetric(diff(warm, failed));
    expect(m.ready!.verdict).toBe('n/a');
    expect(m.ready!.deltaMs).toBeUndefined();
    expect(m.ready!.b).toBeUndefined();
    expect(verdictText(m.ready!)).toBe('—');
    const same = diff(cold, cold);
    expect(new Set(same.metrics.map((x) => x.verdict))).toEqual(new Set(['unchanged']));
  });
});

describe('what else differs, from real traces', () => {
  it('image, digest, pull and admission between nginx and slow-ready; outcome against a failure', () => {
    const nginx = [traceOf('ready-nginx-warm.ndjson')];
    const slow = [traceOf('ready-slow-ready.ndjson')];
    const byWhat = Object.fromEntries(contextDifferences(nginx, slow).map((c) => [c.what, c]));
    expect(Object.keys(byWhat)).toEqual(['image', 'image digest', 'pull', 'readiness probe', 'admission changes']);
    expect(byWhat['readiness probe']).toEqual({ what: 'readiness probe', a: ['nginx: none'], b: ['slow-ready: HTTP GET /ready on port 8080, every 1 s'] });
    expect(byWhat['image']).toEqual({ what: 'image', a: ['nginx: nginx'], b: ['slow-ready: podtrace/slow-ready'] });
    expect(byWhat['image digest']!.a[0]).toMatch(/^nginx: sha256:[0-9a-f]{64}$/);
    expect(byWhat['pull']).toEqual({ what: 'pull', a: ['nginx: present'], b: ['slow-ready: pulled'] });
    // the readiness probe's defaults only exist on the side that has a probe
    expect(byWhat['admission changes']!.a).toEqual([]);
    expect(byWhat['admission changes']!.b).toEqual(expect.arrayContaining(['spec.containers[0].readinessProbe.timeoutSeconds added 1']));

    const failed = [traceOf('unschedulable-node-selector.ndjson')];
    const vsFailed = contextDifferences(nginx, failed);
    expect(vsFailed.find((c) => c.what === 'outcome')).toEqual({ what: 'outcome', a: ['ready'], b: ['unschedulable'] });
    // an unschedulable pod has no node: unknown is not a difference
    expect(vsFailed.find((c) => c.what === 'node')).toBeUndefined();
  });

  it('nothing differs between the runs of one set', () => {
    const warm = recordedSet('big-warm');
    expect(contextDifferences(warm.runs.slice(0, 2), warm.runs.slice(2))).toEqual([]);
  });
});

describe('diff says why (issue: why was it slow)', () => {
  it('a warm series against a cold one: the pull moved, because the image was pulled in B and present in A', () => {
    const result = diff(recordedSet('big-warm'), recordedSet('big-cold'));
    expect(result.why).toEqual([
      expect.objectContaining({ metric: 'pull', verdict: 'regression', facts: ['pull'] }),
    ]);
    expect(result.why![0]!.text).toMatch(/^image pull \+1\.\d+s, likely because pull: A big: present, B big: pulled$/);
  });

  it('a step that moved with nothing recorded to explain it says so, rather than guessing', () => {
    const strict = diff(recordedSet('big-warm'), recordedSet('big-cold'), { thresholds: parseThresholds(['1ms']) });
    const teardown = strict.why?.find((w) => w.metric === 'teardown');
    if (teardown) expect(teardown.text).toMatch(/nothing podtrace records about the two sides differs for this step/);
    // the ready total follows the pull: it has no line of its own
    expect(strict.why?.some((w) => w.metric === 'ready')).toBe(false);
  });
});
