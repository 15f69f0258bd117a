/**
 * Traces and run sets for the report tests, all from the real recordings
 * (test/fixtures/recordings): every trace is reconstructed, never invented.
 */
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseRecording } from '../../../src/trace/recording.js';
import { makeRunSet, type RunSet } from '../../../src/analysis/runset.js';
import type { Trace } from '../../../src/trace/types.js';
import { fixtureRecordings, loadFixture } from '../trace/recording-files.js';

export function traceOf(fixture: string): Trace {
  const { header, observations } = loadFixture(fixture);
  return reconstruct(header, observations);
}

/** Every recording, reconstructed, by file name. */
export const ALL_TRACES: Array<[string, Trace]> = fixtureRecordings().map((r) => {
  const { header, observations } = parseRecording(r.text);
  return [r.name, reconstruct(header, observations)];
});

/** Ready runs of nginx (warm, cold, ...) as one set, every other outcome as another. */
export function fixtureSets(): { ready: RunSet; failed: RunSet; all: RunSet } {
  const ready = ALL_TRACES.filter(([name]) => name.startsWith('ready-')).map(([, t]) => t);
  const failed = ALL_TRACES.filter(([name]) => !name.startsWith('ready-')).map(([, t]) => t);
  return {
    ready: makeRunSet(ready, 'ready runs', '0.1.0'),
    failed: makeRunSet(failed, 'failed runs', '0.1.0'),
    all: makeRunSet(ALL_TRACES.map(([, t]) => t), 'all', '0.1.0'),
  };
}

export { parseCsv, reportSchemaErrors } from './report-checks.js';
