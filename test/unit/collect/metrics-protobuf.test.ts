import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { protobufHistogramLines } from '../../../src/collect/metrics-protobuf.js';
import { KEPT_FAMILIES, keptLines, keptProtobufLines } from '../../../src/collect/metrics.js';
import { parseMetricLines } from '../../../src/trace/metric-deltas.js';

// Read from the local cluster one after the other, in both forms (Accept: the delimited protobuf,
// then text/plain), and trimmed to the kept families (the protobuf keeps four others, to be skipped).
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/doctor/${name}`, import.meta.url));

describe('keptProtobufLines', () => {
  it("gives the series keptLines gives for the text form of the same reading: same names, labels and values (the API server's, a kubelet's)", () => {
    for (const component of ['apiserver', 'kubelet'] as const) {
      const fromProtobuf = keptProtobufLines(fixture(`${component}-metrics.pb`), component);
      const fromText = keptLines(fixture(`${component}-metrics-pb.txt`).toString('utf8'), component);
      expect(fromProtobuf.length).toBeGreaterThan(10);
      // the same series in the same order, each keyed by `name{labels}` as the text writes it
      expect(fromProtobuf.map((l) => l.slice(0, l.lastIndexOf(' ')))).toEqual(fromText.map((l) => l.slice(0, l.lastIndexOf(' '))));
      // and the same numbers: the API server's idle between the two reads; the kubelet's own
      // operations move its runtime and cgroup series in between, so those are compared by name only
      const a = parseMetricLines(fromProtobuf);
      const b = parseMetricLines(fromText);
      const moving = /^kubelet_(runtime_operations|cgroup_manager)_/;
      for (const [series, value] of b) if (!moving.test(series)) expect(a.get(series), series).toBe(value);
    }
  });

  it('reads only the families asked for, histograms only, and escapes label values as the text form does', () => {
    // hand-made: family "h" (histogram) with one metric, label v = a"b\c<newline>, count 3, sum 0.25;
    // family "g" (gauge), asked for too but not a histogram
    const str = (field: number, s: string) => [(field << 3) | 2, Buffer.byteLength(s), ...Buffer.from(s)];
    const label = [...str(1, 'v'), ...str(2, 'a"b\\c\n')];
    const sum = new Uint8Array(new Float64Array([0.25]).buffer);
    const histogram = [(1 << 3) | 0, 3, (2 << 3) | 1, ...sum];
    const metric = [(1 << 3) | 2, label.length, ...label, (7 << 3) | 2, histogram.length, ...histogram];
    const h = [...str(1, 'h'), (3 << 3) | 0, 4, (4 << 3) | 2, metric.length, ...metric];
    const g = [...str(1, 'g'), (3 << 3) | 0, 1];
    const bytes = new Uint8Array([g.length, ...g, h.length, ...h]);
    expect(protobufHistogramLines(bytes, new Set(['h', 'g']))).toEqual(['h_sum{v="a\\"b\\\\c\\n"} 0.25', 'h_count{v="a\\"b\\\\c\\n"} 3']);
    expect(protobufHistogramLines(bytes, new Set(['x']))).toEqual([]);
  });

  it('refuses a truncated message rather than reading past it', () => {
    const whole = fixture('kubelet-metrics.pb');
    expect(() => protobufHistogramLines(whole.subarray(0, whole.length - 5), new Set(KEPT_FAMILIES.kubelet))).toThrow(/protobuf/);
  });
});
