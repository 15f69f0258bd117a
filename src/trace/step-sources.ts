/**
 * Where each step of a plain pod's start (and teardown) can take its time
 * from, before any run: the milestone table's own rows (their ids, labels and
 * components, from milestoneTable() on a one-container pod) with the sources
 * their candidates offer. `podtrace doctor` matches them to the sources a
 * cluster has, to say what precision each step will get there.
 *
 * STEP_SOURCES is the one thing written by hand: the candidates of each row
 * can only be seen on a run. test/unit/trace/step-sources.test.ts holds it to
 * the table: on every real recording in test/fixtures/recordings/, the
 * candidates each row offers are exactly the sources listed here, so a new
 * candidate in milestones.ts fails that test until it is listed. Pure.
 */
import { buildContext } from './context.js';
import { SOURCE_RANK, type TimeSource } from './event-time.js';
import { milestoneTable } from './milestones.js';
import { RECORDING_KIND, RECORDING_VERSION, type RecordingHeader } from './observation.js';
import type { Component } from './types.js';

/** A time source, and for a span the component that must export it. */
export type SourceRef = Exclude<TimeSource, 'span' | 'bounded-by'> | 'span:apiserver' | 'span:kubelet';

/** `container.*.` stands for every container's row. */
export const STEP_SOURCES: Readonly<Record<string, readonly SourceRef[]>> = {
  'client.kubeconfig': ['client-clock'],
  'client.credentials': ['client-clock'],
  'client.identity': ['client-clock'],
  'client.authorized': ['client-clock'],
  'client.may-delete': ['client-clock'],
  'api.post-sent': ['client-clock'],
  'api.accepted': ['span:apiserver', 'client-clock', 'watch-observed', 'status-field-s'],
  'scheduler.scheduled': ['event-name-ns', 'watch-observed', 'condition-s'],
  'kubelet.acknowledged': ['span:kubelet', 'watch-observed', 'status-field-s'],
  'kubelet.sandbox-requested': ['span:kubelet'],
  'runtime.sandbox-ready': ['span:kubelet', 'watch-observed', 'condition-s'],
  'container.*.pulling': ['event-name-ns', 'span:kubelet'],
  'container.*.pulled': ['event-name-ns', 'span:kubelet'],
  'container.*.image-present': ['event-name-ns'],
  'container.*.created': ['event-name-ns', 'span:kubelet'],
  'container.*.started': ['event-name-ns', 'span:kubelet', 'watch-observed', 'status-field-s'],
  'container.*.ready': ['watch-observed'],
  'pod.containers-ready': ['watch-observed', 'condition-s'],
  'pod.ready': ['watch-observed', 'condition-s'],
  'teardown.delete-sent': ['client-clock'],
  'teardown.killing': ['event-name-ns'],
  'teardown.containers-terminated': ['watch-observed', 'status-field-s'],
  'teardown.pod-gone': ['client-clock', 'watch-observed'],
};

export function timeSourceOf(ref: SourceRef): TimeSource {
  return ref.startsWith('span:') ? 'span' : (ref as TimeSource);
}

/** Best first, as reconstruct() ranks candidates (event-time.ts SOURCE_RANK). */
export function rankSources(refs: readonly SourceRef[]): SourceRef[] {
  return [...refs].sort((a, b) => SOURCE_RANK.indexOf(timeSourceOf(a)) - SOURCE_RANK.indexOf(timeSourceOf(b)));
}

/** A row's id with its container's name replaced by `*`. */
export function genericStepId(id: string, container: string | undefined): string {
  return container === undefined ? id : id.replace(`container.${container}.`, 'container.*.');
}

export interface PlannedStep {
  /** Generic id (`container.*.started` for each container's). */
  id: string;
  label: string;
  component: Component;
  /** Best first. */
  sources: SourceRef[];
  /** Rows of another path that excludes this one (image present, or pulled). */
  exclusiveWith?: string[];
}

const CONTAINER = 'main';

/** The rows of a one-container pod's start and teardown, in the table's order, with their sources. */
export function plannedSteps(): PlannedStep[] {
  const header: RecordingHeader = {
    kind: RECORDING_KIND,
    version: RECORDING_VERSION,
    toolVersion: '',
    startedAt: 0,
    namespace: 'default',
    podName: 'pod',
    options: { keep: false, timeoutMs: 0 },
  };
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod' }, spec: { containers: [{ name: CONTAINER, image: 'image' }] } };
  const ctx = buildContext(header, [{ seq: 0, source: 'client', type: 'submitted', observedAt: 0, data: { pod } }]);
  const steps: PlannedStep[] = [];
  for (const row of milestoneTable(ctx)) {
    const id = genericStepId(row.id, row.container);
    const sources = STEP_SOURCES[id];
    if (row.failure || sources === undefined) continue;
    steps.push({
      id,
      label: row.container === undefined ? row.label : row.label.replace(` ${row.container}:`, ':'),
      component: row.component,
      sources: rankSources(sources),
      ...(row.exclusiveWith ? { exclusiveWith: row.exclusiveWith.map((x) => genericStepId(x, row.container)) } : {}),
    });
  }
  return steps;
}
