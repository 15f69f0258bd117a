/**
 * STEP_SOURCES (what `podtrace doctor` says each step can be timed from) is
 * the milestone table's own candidates, seen on the real recordings: listing
 * a source no row offers, or leaving out one a row does, fails here.
 */
import { describe, expect, it } from 'vitest';
import { buildContext } from '../../../src/trace/context.js';
import { milestoneTable } from '../../../src/trace/milestones.js';
import { parseRecording } from '../../../src/trace/recording.js';
import { genericStepId, plannedSteps, STEP_SOURCES, type SourceRef } from '../../../src/trace/step-sources.js';
import { fixtureRecordings } from './recording-files.js';

/** Every row's candidate sources over every fixture, by generic row id. */
function offered(): Map<string, Set<SourceRef>> {
  const out = new Map<string, Set<SourceRef>>();
  for (const file of fixtureRecordings()) {
    const { header, observations } = parseRecording(file.text);
    const ctx = buildContext(header, observations);
    for (const row of milestoneTable(ctx)) {
      const id = genericStepId(row.id, row.container);
      const set = out.get(id) ?? new Set<SourceRef>();
      for (const c of row.candidates(ctx)) {
        const service = c.evidence.split(' ')[0];
        set.add(c.source === 'span' ? (`span:${service}` as SourceRef) : (c.source as SourceRef));
      }
      out.set(id, set);
    }
  }
  return out;
}

describe('the sources each step can be timed from', () => {
  const seen = offered();

  it.each(Object.entries(STEP_SOURCES))('%s: exactly the candidates the milestone table offers on the real recordings', (id, sources) => {
    expect(seen.has(id), `no recording has a row ${id}`).toBe(true);
    expect([...sources].sort()).toEqual([...seen.get(id)!].sort());
  });

  it("a plain pod's steps come from the milestone table, in its order, best source first", () => {
    const steps = plannedSteps();
    expect(steps.map((s) => s.id)).toEqual([
      'client.kubeconfig',
      'client.credentials',
      'client.identity',
      'client.authorized',
      'client.may-delete',
      'api.post-sent',
      'api.accepted',
      'scheduler.scheduled',
      'kubelet.acknowledged',
      'kubelet.sandbox-requested',
      'runtime.sandbox-ready',
      'container.*.pulling',
      'container.*.pulled',
      'container.*.image-present',
      'container.*.created',
      'container.*.started',
      'container.*.ready',
      'pod.containers-ready',
      'pod.ready',
      'teardown.delete-sent',
      'teardown.killing',
      'teardown.containers-terminated',
      'teardown.pod-gone',
    ]);
    expect(steps.find((s) => s.id === 'api.accepted')).toMatchObject({ label: 'API server stored the pod', component: 'apiserver', sources: ['span:apiserver', 'client-clock', 'watch-observed', 'status-field-s'] });
    expect(steps.find((s) => s.id === 'container.*.started')).toMatchObject({ label: 'container: started', sources: ['event-name-ns', 'span:kubelet', 'watch-observed', 'status-field-s'] });
    expect(steps.find((s) => s.id === 'container.*.image-present')!.exclusiveWith).toEqual(['container.*.pulling', 'container.*.pulled']);
  });
});
