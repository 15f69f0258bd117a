import { describe, expect, it } from 'vitest';
import { buildContext } from '../../../src/trace/context.js';
import { PRECISION_MS } from '../../../src/trace/event-time.js';
import { milestoneTable } from '../../../src/trace/milestones.js';
import { isTerminalFailure } from '../../../src/trace/outcome.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseRecording } from '../../../src/trace/recording.js';
import type { Trace } from '../../../src/trace/types.js';
import { allRecordings, fixtureRecordings, FIXTURE_DIR } from './recording-files.js';
import { schemaErrors } from './schema-validator.js';

const recordings = allRecordings();

describe('fixture recordings', () => {
  it.runIf(process.env.PODTRACE_REQUIRE_FIXTURES === '1')(`has at least one real recording in ${FIXTURE_DIR}`, () => {
    expect(fixtureRecordings().length).toBeGreaterThan(0);
  });
  it('has recordings to test on (real or synthetic)', () => {
    expect(recordings.length).toBeGreaterThan(0);
  });
});

/** Invariants every trace must satisfy, complete or partial. */
function checkInvariants(trace: Trace, tableOrder: string[]): void {
  // Milestones come in table order, each id once.
  const indices = trace.milestones.map((m) => tableOrder.indexOf(m.id));
  expect(indices.every((i) => i >= 0), `unknown milestone ids: ${trace.milestones.map((m) => m.id)}`).toBe(true);
  expect([...indices].sort((a, b) => a - b)).toEqual(indices);
  expect(new Set(indices).size).toBe(indices.length);

  for (const m of trace.milestones) {
    expect(Object.keys(PRECISION_MS)).toContain(m.source);
    expect(m.precisionMs).toBeGreaterThan(0);
    expect(Number.isFinite(m.at)).toBe(true);
    expect(m.offsetMs).toBeCloseTo(m.at - trace.run.t0, 2);
  }

  // No negative duration, and every clamped one is explained.
  const explained = new Set(trace.anomalies.filter((a) => a.kind === 'negative-duration').map((a) => a.phase));
  for (const p of trace.phases) {
    expect(p.durationMs).toBeGreaterThanOrEqual(0);
    if (p.clamped) expect(explained.has(p.id), `clamped phase ${p.id} has no anomaly`).toBe(true);
  }
  for (const a of trace.anomalies) expect(a.explanation.length).toBeGreaterThan(0);

  expect(schemaErrors(trace)).toEqual([]);
  if (trace.outcome.class === 'in-progress') expect(trace.outcome.exitCode).toBeNull();
  else expect(typeof trace.outcome.exitCode).toBe('number');
}

describe.each(recordings.map((r) => [r.name, r] as const))('reconstruct(%s)', (_name, file) => {
  const { header, observations } = parseRecording(file.text);
  const trace = reconstruct(header, observations);
  const tableOrder = milestoneTable(buildContext(header, observations)).map((s) => s.id);

  it('satisfies the trace invariants', () => {
    checkInvariants(trace, tableOrder);
  });

  it.runIf(file.expected !== undefined)(`classifies the outcome as ${file.expected}`, () => {
    expect(trace.run.final).toBe(true);
    expect(trace.outcome.class).toBe(file.expected);
  });

  it('is deterministic', () => {
    expect(reconstruct(header, observations)).toEqual(trace);
  });

  it('never carries credentials', () => {
    const text = JSON.stringify(trace);
    expect(text).not.toMatch(/"(token|password|client-key-data|client-certificate-data|certificate-authority-data)"\s*:/i);
  });

  it('works on partial observation lists (progress display)', () => {
    const cuts = new Set<number>([0, 1, observations.length - 1]);
    const step = Math.max(1, Math.floor(observations.length / 20));
    for (let n = step; n < observations.length; n += step) cuts.add(n);
    const finalIds = new Set(trace.milestones.map((m) => m.id));
    for (const n of [...cuts].sort((a, b) => a - b)) {
      const partial = reconstruct(header, observations.slice(0, n));
      const partialOrder = milestoneTable(buildContext(header, observations.slice(0, n))).map((s) => s.id);
      checkInvariants(partial, partialOrder);
      // Until the run ends the outcome is in progress, except that Ready, once seen, is the result.
      if (!partial.run.final) expect(['in-progress', 'ready']).toContain(partial.outcome.class);
      if (partial.outcome.class === 'ready') expect(partial.milestones.some((m) => m.id === 'pod.ready')).toBe(true);
      // Later observations can improve a milestone's source, never take the milestone away.
      for (const m of partial.milestones) expect(finalIds.has(m.id), `${m.id} reached at ${n} but not in the end`).toBe(true);
    }
  });
});

describe('synthetic ready recording', () => {
  const file = recordings.find((r) => r.name === 'synthetic-ready-nginx.ndjson');
  it.runIf(file !== undefined)('times each step from the best source and puts kubelet numbers beside them', () => {
    const { header, observations } = parseRecording(file!.text);
    const trace = reconstruct(header, observations);
    const byId = new Map(trace.milestones.map((m) => [m.id, m]));
    expect(byId.get('api.post-sent')!.offsetMs).toBe(0);
    expect(byId.get('scheduler.scheduled')!.source).toBe('event-name-ns');
    expect(byId.get('scheduler.scheduled')!.detail).toBe('node node-1');
    expect(byId.get('container.nginx.pulled')!.source).toBe('event-name-ns');
    expect(byId.get('pod.ready')!.source).toBe('watch-observed');
    expect(byId.has('pod.initialized')).toBe(false); // no init containers: Initialized carries no timing
    expect(trace.clock.method).toBe('zero-within-bounds');
    expect(trace.containers[0]).toMatchObject({ name: 'nginx', pull: 'pulled', pullMs: 3521, imageSizeBytes: 72099410 });
    expect(trace.phases.find((p) => p.id === 'container.nginx.pull-reported')?.durationMs).toBe(3521);
    expect(trace.admission.changes.map((c) => c.path)).toEqual(
      expect.arrayContaining(['spec.containers[0].imagePullPolicy', 'spec.tolerations', 'spec.volumes']),
    );
    expect(trace.admission.changes.some((c) => c.path.startsWith('metadata.uid') || c.path.startsWith('status'))).toBe(false);
    expect(trace.node?.kubeletVersion).toBe('v1.34.12');
    expect(trace.outcome).toMatchObject({ class: 'ready', exitCode: 0 });
  });
});

describe('synthetic image-pull-not-found recording', () => {
  const file = recordings.find((r) => r.name === 'synthetic-image-pull-not-found-nginx.ndjson');
  it.runIf(file !== undefined)('is terminal once ImagePullBackOff follows a not-found pull error', () => {
    const { header, observations } = parseRecording(file!.text);
    const backOffSeen = observations.findIndex(
      (o) => o.source === 'pod' && JSON.stringify(o.object).includes('"reason":"ImagePullBackOff"'),
    );
    expect(backOffSeen).toBeGreaterThan(0);
    const before = reconstruct(header, observations.slice(0, backOffSeen));
    const after = reconstruct(header, observations.slice(0, backOffSeen + 1));
    expect(before.outcome.class).toBe('in-progress');
    expect(isTerminalFailure(before)).toBe(false);
    expect(before.outcome.suspected?.class).toBe('image-pull-not-found');
    expect(after.outcome.suspected).toMatchObject({ class: 'image-pull-not-found', terminal: true, exitCode: 11 });
    expect(isTerminalFailure(after)).toBe(true);
    const full = reconstruct(header, observations);
    expect(full.containers[0]?.pullFailure?.kind).toBe('not-found');
    expect(full.gaps).toHaveLength(1);
  });
});
