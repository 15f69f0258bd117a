/**
 * Where the time went, on recordings of the real cluster: the path from the POST to Ready, each
 * step's share, and the facts that explain the largest.
 */
import { describe, expect, it } from 'vitest';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import type { Trace } from '../../../src/trace/types.js';
import { readFileSync } from 'node:fs';
import { parseRecording } from '../../../src/trace/recording.js';
import { COMPARE_DIR } from '../compare/fixtures.js';
import { fixtureRecordings, loadFixture } from './recording-files.js';

function traceOf(file: string): Trace {
  const { header, observations } = loadFixture(file);
  return reconstruct(header, observations);
}

describe('every Ready recording is explained; nothing else is', () => {
  for (const { name } of fixtureRecordings()) {
    const trace = traceOf(name);
    it(name, () => {
      if (trace.outcome.class !== 'ready') {
        expect(trace.explain).toBeUndefined();
        return;
      }
      const e = trace.explain!;
      expect(e.totalMs).toBeCloseTo(trace.outcome.readyAfterMs!, 6);
      // the steps partition the path: their times add up to the time to Ready
      expect(Math.abs(e.parts.reduce((n, p) => n + p.ms, 0) - e.totalMs)).toBeLessThan(0.001 * e.parts.length);
      expect(e.parts.reduce((n, p) => n + p.share, 0)).toBeCloseTo(1, 4);
      for (const p of e.parts) expect(p.precisionMs).toBeGreaterThanOrEqual(0);
      expect(e.summary).toMatch(/ to Ready: /);
    });
  }
});

describe('cold and warm nginx', () => {
  const cold = traceOf('ready-nginx-cold.ndjson').explain!;
  const warm = traceOf('ready-nginx-warm.ndjson').explain!;

  it('cold: the pull comes first, with its share, size and throughput', () => {
    const pull = cold.parts.find((p) => p.step === 'image')!;
    expect(cold.parts.reduce((a, b) => (b.ms > a.ms ? b : a)).step).toBe('image');
    expect(pull.share).toBeGreaterThan(0.5);
    expect(cold.summary).toMatch(/^3\.93s to Ready: image pull 2\.90s \(74 %, 58 MB at 20 MB\/s, cold\); /);
  });

  it('warm: the image was present, and the pull is no longer the largest step', () => {
    expect(warm.parts.find((p) => p.step === 'image')?.notes).toEqual(['image present on the node (warm)']);
    expect(warm.parts.reduce((a, b) => (b.ms > a.ms ? b : a)).step).not.toBe('image');
  });
});

describe('ready-slow-ready and ready-multi', () => {
  it('a readiness probe that failed first: its period and failures are named', () => {
    const e = traceOf('ready-slow-ready.ndjson').explain!;
    expect(e.summary).toMatch(/readiness 3\.03s \(84 %, readiness probe every 1 s, failed 4 times first\)/);
  });

  it('an init container: its own run, then the kubelet moving on, counted once in the path', () => {
    const e = traceOf('ready-multi.ndjson').explain!;
    const init = e.parts.find((p) => p.step === 'init')!;
    expect(init.notes?.[0]).toMatch(/^1 init container: setup \d+ms, then the kubelet noticed the end and moved on to the app containers$/);
    // the second container's pull counts once, after the first container's start
    expect(e.parts.find((p) => p.step === 'image')!.ms).toBeLessThan(100);
  });
});

describe('ready-explain-pull-waited (real recording: a second cold pod on a node that pulls one image at a time)', () => {
  const trace = traceOf('ready-explain-pull-waited.ndjson');

  it("names the wait behind the other pull, and why from the kubelet's /configz read in the run", () => {
    const c = trace.containers[0]!;
    const waited = c.pullIncludingWaitingMs! - c.pullMs!;
    expect(waited).toBeGreaterThan(200);
    const note = trace.explain!.parts.find((p) => p.step === 'image')!.notes![0]!;
    expect(note).toMatch(/, after \S+ waiting for other pulls: the kubelet pulls one image at a time \(serializeImagePulls: true, its \/configz\)$/);
  });

  it('without the /configz reading (an older recording), the wait is named without a reason', () => {
    const { header, observations } = loadFixture('ready-explain-pull-waited.ndjson');
    const older = reconstruct(header, observations.filter((o) => o.type !== 'kubelet-config'));
    expect(older.explain!.parts.find((p) => p.step === 'image')!.notes![0]).toMatch(/waiting for other pulls$/);
  });
});

describe("ready-explain-pull-qps (real recording: 12 pulls at once, some refused by the kubelet's own rate limit)", () => {
  const trace = traceOf('ready-explain-pull-qps.ndjson');

  it('the wait for the back-off is the image step, first in the summary, with the failure and the limit from /configz', () => {
    const e = trace.explain!;
    const image = e.parts.find((p) => p.step === 'image')!;
    expect(e.parts.reduce((a, b) => (b.ms > a.ms ? b : a)).step).toBe('image');
    expect(image.ms).toBeGreaterThan(5000); // the kubelet's first back-off is 10 s
    expect(image.notes![0]).toMatch(/^c\d+: its first pull failed \(pull QPS exceeded: the kubelet's own pull rate limit, registryPullQPS 5\/s with a burst of 10 \(its \/configz\)\) and the kubelet backed off; it started \S+ later$/);
    expect(e.summary.startsWith(`${e.summary.split(' to Ready')[0]} to Ready: image pull`)).toBe(true);
    // the parts still add up to the time to Ready
    expect(e.parts.reduce((n, p) => n + p.ms, 0)).toBeCloseTo(e.totalMs, 0);
  });

  it('without the /configz reading, the limit is named without its figures', () => {
    const { header, observations } = loadFixture('ready-explain-pull-qps.ndjson');
    const older = reconstruct(header, observations.filter((o) => o.type !== 'kubelet-config'));
    expect(older.explain!.parts.find((p) => p.step === 'image')!.notes![0]).toMatch(/\(pull QPS exceeded: the kubelet's own pull rate limit\) and the kubelet backed off/);
  });
});

describe('podtrace/big, warm and cold (test/fixtures/compare: four runs each)', () => {
  it('cold: the pull first, with its share of the time to Ready, the size and the throughput; warm: the image present', () => {
    for (const n of [1, 2, 3, 4]) {
      const { header, observations } = parseRecording(readFileSync(`${COMPARE_DIR}big-cold-${n}.ndjson`, 'utf8'));
      const cold = reconstruct(header, observations).explain!;
      expect(cold.summary).toMatch(/^\S+ to Ready: image pull \S+ \((\d+) %, 254 MB at \d+ MB\/s, cold\)/);
      expect(cold.parts.reduce((a, b) => (b.ms > a.ms ? b : a)).step).toBe('image');
      const warmRec = parseRecording(readFileSync(`${COMPARE_DIR}big-warm-${n}.ndjson`, 'utf8'));
      const warm = reconstruct(warmRec.header, warmRec.observations).explain!;
      expect(warm.parts.find((p) => p.step === 'image')!.notes).toEqual(['image present on the node (warm)']);
    }
  });
});
