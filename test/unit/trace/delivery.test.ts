import { describe, expect, it } from 'vitest';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { fixtureRecordings, loadFixture } from './recording-files.js';
import { parseRecording } from '../../../src/trace/recording.js';

describe('watch delivery, measured per run', () => {
  it('bounds every watch sighting by the slowest delivery of the run, from stamped events and the ADDED after the POST', () => {
    const { header, observations } = loadFixture('ready-nginx.ndjson');
    const trace = reconstruct(header, observations);
    const delivery = trace.clock.delivery!;
    expect(delivery.samples).toBeGreaterThan(3);
    expect(delivery.events).toBe(delivery.samples - 1);
    expect(delivery.afterPostResponseMs).toBeGreaterThanOrEqual(0);
    expect(delivery.medianMs!).toBeLessThanOrEqual(delivery.p90Ms!);
    expect(delivery.p90Ms!).toBeLessThanOrEqual(delivery.maxMs!);
    for (const m of trace.milestones.filter((x) => x.source === 'watch-observed')) expect(m.precisionMs).toBe(delivery.maxMs);
  });

  it('differs between runs: it is measured, not a constant', () => {
    const bounds = new Set(
      fixtureRecordings()
        .filter((r) => r.expected === 'ready')
        .map((r) => {
          const { header, observations } = parseRecording(r.text);
          return reconstruct(header, observations).clock.delivery?.maxMs;
        }),
    );
    expect(bounds.size).toBeGreaterThan(5);
  });

  it('leaves out events held back by an API server outage: the trace with the restart is not bounded by the outage', () => {
    const { header, observations } = loadFixture('ready-big-apiserver-restart.ndjson');
    const trace = reconstruct(header, observations);
    const outage = Math.max(...trace.gaps.map((g) => g.durationMs));
    expect(outage).toBeGreaterThan(1000);
    expect(trace.clock.delivery!.maxMs!).toBeLessThan(outage);
  });

  it('an inspection uses no sighting and measures none', () => {
    const { header, observations } = loadFixture('ready-inspect.ndjson');
    expect(reconstruct(header, observations).clock.delivery).toBeUndefined();
  });
});
