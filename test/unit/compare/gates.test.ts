import { describe, expect, it } from 'vitest';
import { RuleSyntaxError } from '../../../src/analysis/rule-error.js';
import { parseDuration } from '../../../src/analysis/duration.js';
import { describeViolations, describeWithinError, evaluateGates, failingGates, parseFailOn } from '../../../src/analysis/gates.js';
import { METRIC_NAMES, traceMetricPrecisions, traceMetrics } from '../../../src/analysis/metrics.js';
import { setOf, traceOf } from './fixtures.js';

describe('the one duration grammar (parseDuration)', () => {
  it.each([
    ['5s', 5000],
    ['200ms', 200],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['0ms', 0],
    [' 2s ', 2000],
  ])('%s is %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['5', 's', '5 s', '-1s', '5sec', '1d', ''])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());
});

describe('parseFailOn', () => {
  it('reads a comma-separated list, statistics and repeated flags', () => {
    expect(parseFailOn('ready>5s,pull>2s')).toEqual([
      { metric: 'ready', stat: 'median', limitMs: 5000, limitText: '5s', text: 'ready>5s' },
      { metric: 'pull', stat: 'median', limitMs: 2000, limitText: '2s', text: 'pull>2s' },
    ]);
    expect(parseFailOn(['ready.p90 > 1.5s', 'schedule.max>200ms, teardown.p50>1m'])).toEqual([
      { metric: 'ready', stat: 'p90', limitMs: 1500, limitText: '1.5s', text: 'ready.p90>1.5s' },
      { metric: 'schedule', stat: 'max', limitMs: 200, limitText: '200ms', text: 'schedule.max>200ms' },
      { metric: 'teardown', stat: 'median', limitMs: 60_000, limitText: '1m', text: 'teardown>1m' },
    ]);
  });

  it.each([
    ['redy>5s', /unknown metric "redy"; use one of client, api, schedule, kubelet, sandbox, pull, start, readiness, ready, teardown/],
    ['ready>5', /"5" is not a duration; write e.g. 200ms, 1.5s/],
    ['ready>soon', /"soon" is not a duration/],
    ['ready<5s', /write METRIC>DURATION, e.g. ready>5s/],
    ['ready=5s', /write METRIC>DURATION/],
    ['ready.p0>5s', /unknown statistic "p0"/],
    ['ready.avg>5s', /unknown statistic "avg"/],
    ['', /--fail-on is empty/],
    [' , ', /--fail-on is empty/],
  ])('%j is a usage error', (text, message) => {
    expect(() => parseFailOn(text)).toThrow(RuleSyntaxError);
    expect(() => parseFailOn(text)).toThrow(message);
  });

  it('lists every metric name in the unknown-metric message', () => {
    expect.assertions(METRIC_NAMES.length);
    try {
      parseFailOn('nope>1s');
    } catch (error) {
      for (const name of METRIC_NAMES) expect((error as Error).message).toContain(name);
    }
  });
});

describe('evaluateGates on real traces', () => {
  const cold = traceOf('ready-nginx-cold.ndjson'); // ready 3.93 s, pull 2.90 s
  const warm = traceOf('ready-nginx-warm.ndjson'); // ready 625 ms, no pull
  const coldMetrics = traceMetrics(cold);

  it('passes when under the limits and fails each crossed one, in the order given', () => {
    expect(evaluateGates(cold, parseFailOn('ready>5s,pull>3s'))).toEqual([]);
    const violations = evaluateGates(cold, parseFailOn('pull>2s,ready>5s,ready>1s'));
    expect(violations.map((v) => v.gate.text)).toEqual(['pull>2s', 'ready>1s']);
    expect(violations[0]!.valueMs).toBe(coldMetrics.pull);
    expect(describeViolations(violations)).toBe(`threshold exceeded: pull 2.90s > 2s, ready 3.93s > 1s`);
  });

  it('gates the median of a run set unless another statistic is named', () => {
    const set = setOf([warm, cold, warm], 'mixed');
    // median of ready over (625 ms, 3.93 s, 625 ms) is 625 ms; the max is the cold run
    expect(evaluateGates(set, parseFailOn('ready>1s'))).toEqual([]);
    const [max] = evaluateGates(set, parseFailOn('ready.max>1s'));
    expect(max!.valueMs).toBe(coldMetrics.ready);
    expect(max!.runs).toBe(3);
    const [p90] = evaluateGates(set, parseFailOn('pull.p90>1s'));
    expect(p90!.valueMs).toBeCloseTo(coldMetrics.pull! * 0.8, 6); // type-7 quantile between 0 and the cold pull
    expect(describeViolations(evaluateGates(set, parseFailOn('ready>100ms')))).toMatch(/^threshold exceeded: ready median 625ms > 100ms$/);
    expect(describeViolations([p90!])).toMatch(/^threshold exceeded: pull p90 2\.32s > 1s$/);
  });

  it('fails a gate on a metric the runs never reached', () => {
    const failed = traceOf('image-pull-not-found-doesnotexist.ndjson');
    const violations = evaluateGates([failed], parseFailOn('ready>5s,api>1s'));
    expect(violations).toEqual([{ gate: expect.objectContaining({ metric: 'ready' }), runs: 0 }]);
    expect(describeViolations(violations)).toBe('threshold exceeded: ready not measured (limit 5s)');
  });
});

describe('gates respect the measurement precision', () => {
  const trace = traceOf('ready-nginx-cold.ndjson');
  const ready = traceMetrics(trace)['ready']!;
  const precision = traceMetricPrecisions(trace)['ready']!;

  it("a metric's precision is the sum of its two ends'", () => {
    const at = (id: string) => trace.milestones.find((m) => m.id === id)!;
    expect(precision).toBeCloseTo(at('api.post-sent').precisionMs + at('pod.ready').precisionMs, 9);
    expect(precision).toBeGreaterThan(0);
  });

  it('a crossing within that precision is a warning, not a failure; beyond it, a failure', () => {
    const limit = (ms: number) => `ready>${Math.floor(ms)}ms`;
    const [within] = evaluateGates([trace], parseFailOn(limit(ready - precision / 2)));
    expect(within).toMatchObject({ withinError: true, precisionMs: precision });
    expect(failingGates([within!])).toEqual([]);
    expect(describeWithinError([within!])).toMatch(/^warning: within measurement error, not counted as a failure: ready 3\.93s > \d+ms by \S+, within its precision ±/);
    const [beyond] = evaluateGates([trace], parseFailOn(limit(ready - precision - 5)));
    expect(beyond!.withinError).toBeUndefined();
    expect(failingGates([beyond!])).toHaveLength(1);
  });

  it('over runs, the largest precision among them', () => {
    const set = setOf([traceOf('ready-nginx-cold.ndjson'), traceOf('ready-nginx-warm.ndjson')], 'nginx');
    const largest = Math.max(...set.runs.map((t) => traceMetricPrecisions(t)['ready']!));
    const [v] = evaluateGates(set, parseFailOn('ready>1ms'));
    expect(v!.precisionMs).toBe(largest);
  });
});
