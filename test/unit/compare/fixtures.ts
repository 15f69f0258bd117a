/**
 * Traces for the compare tests, all reconstructed from real recordings made
 * on the local cluster with `podtrace create --record`; nothing here invents
 * an observation.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeRunSet, type RunSet } from '../../../src/analysis/runset.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseRecording } from '../../../src/trace/recording.js';
import type { Trace } from '../../../src/trace/types.js';
import { readFileSync } from 'node:fs';
import { loadFixture } from '../trace/recording-files.js';

export function traceOf(fixture: string): Trace {
  const { header, observations } = loadFixture(fixture);
  return reconstruct(header, observations);
}

/**
 * Repeated runs recorded for the compare tests: test/fixtures/compare/<set>-<n>.ndjson,
 * made on the local cluster (v1.34, containerd 1.6) with
 *   podtrace create podtrace/big --pull-policy IfNotPresent --record big-<cold|warm>-<n>.ndjson
 * big-cold-*: `hack/cluster.sh rmi podtrace/big` (and a few seconds' wait) before each run,
 * so each pulled the image's 240 MiB from the local registry; big-warm-*: right after, the
 * image present. One process per run on both sides, so the client steps compare like with like.
 */
export const COMPARE_DIR = fileURLToPath(new URL('../../fixtures/compare/', import.meta.url));

export function recordedSet(prefix: string, label = prefix): RunSet {
  const names = readdirSync(COMPARE_DIR)
    .filter((n) => n.startsWith(`${prefix}-`) && n.endsWith('.ndjson'))
    .sort();
  if (names.length === 0) throw new Error(`no recordings ${prefix}-*.ndjson in ${COMPARE_DIR}`);
  const runs = names.map((n) => {
    const { header, observations } = parseRecording(readFileSync(`${COMPARE_DIR}${n}`, 'utf8'));
    return reconstruct(header, observations);
  });
  return makeRunSet(runs, label, runs[0]!.toolVersion);
}

export function setOf(traces: Trace[], label: string): RunSet {
  return makeRunSet(traces, label, traces[0]!.toolVersion);
}
