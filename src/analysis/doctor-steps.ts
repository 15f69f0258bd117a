/**
 * The precision each step of a pod's start will get on this cluster: the
 * milestone table's rows and the sources their candidates offer
 * (trace/step-sources.ts), the best of them this cluster gives, at the
 * precision reconstruct() gives that source (event-time.ts PRECISION_MS; a
 * span's is the backend's, measured on the spans it answered with; a watch
 * sighting's is measured in each run). And the components' own figures the
 * trace can take from /metrics (trace/metric-deltas.ts METRIC_STEPS). Pure.
 */
import { isReadError, type DoctorFindings } from '../trace/doctor-findings.js';
import { PRECISION_MS } from '../trace/event-time.js';
import { METRIC_STEPS, metricFamily } from '../trace/metric-deltas.js';
import { plannedSteps, timeSourceOf, type PlannedStep, type SourceRef } from '../trace/step-sources.js';
import type { CheckId, DoctorCheck, FigurePlan, StepPrecision } from './doctor-types.js';

/** Whether this cluster gives podtrace a source, and if not, the check whose change would. */
function availability(ref: SourceRef, checks: ReadonlyMap<CheckId, DoctorCheck>, f: DoctorFindings): true | CheckId {
  const allowed = (what: string) => f.access.find((a) => a.what === what)?.allowed !== false;
  switch (ref) {
    case 'span:apiserver':
      return checks.get('apiserver-spans')?.status === 'ok' ? true : 'apiserver-spans';
    case 'span:kubelet':
      return checks.get('kubelet-spans')?.status === 'ok' ? true : 'kubelet-spans';
    case 'event-name-ns':
    case 'event-time-us':
    case 'event-timestamp-s':
      return allowed('watch events') && allowed('watch events.k8s.io events') ? true : 'access';
    case 'watch-observed':
    case 'status-field-s':
    case 'condition-s':
      return allowed('watch pods') ? true : 'access';
    case 'client-clock':
    case 'probe-clock':
      return true;
  }
}

/** How many kubelet events one container's start makes: its rows timed from an event, on the path that pulls. */
export function eventsPerContainerStart(steps: readonly PlannedStep[] = plannedSteps()): number {
  return steps.filter((s) => s.id.startsWith('container.*.') && s.exclusiveWith === undefined && s.sources.includes('event-name-ns')).length;
}

export function stepPrecisions(f: DoctorFindings, checks: ReadonlyMap<CheckId, DoctorCheck>): StepPrecision[] {
  const eventsLate = checks.get('kubelet-events')?.status === 'improve';
  return plannedSteps().map((step) => {
    const states = step.sources.map((ref) => ({ ref, state: availability(ref, checks, f) }));
    const best = states.find((s) => s.state === true)?.ref;
    const missing = states.find((s) => s.state !== true);
    const better = missing && (best === undefined || step.sources.indexOf(missing.ref) < step.sources.indexOf(best)) ? missing : undefined;
    const out: StepPrecision = { id: step.id, label: step.label, component: step.component };
    if (best !== undefined) {
      out.source = best;
      const source = timeSourceOf(best);
      if (source === 'watch-observed') out.measuredPerRun = true;
      else out.precisionMs = source === 'span' ? (f.backend?.resolutionMs ?? PRECISION_MS.span) : PRECISION_MS[source];
      if (source === 'event-name-ns' && eventsLate && (step.component === 'kubelet' || step.component === 'runtime')) {
        out.note = "late when the kubelet's event rate limit binds";
      }
    }
    if (better) out.better = { source: better.ref, check: better.state as CheckId };
    return out;
  });
}

export function figurePlans(f: DoctorFindings): FigurePlan[] {
  const kubelets = f.kubelets.map((k) => k.metrics);
  return METRIC_STEPS.map((step) => {
    const family = metricFamily(step.series);
    const readings = step.from === 'apiserver' ? [f.apiserverMetrics] : kubelets;
    const read = readings.flatMap((m) => (isReadError(m) ? [] : [m]));
    const status: FigurePlan['status'] =
      read.length === 0 || read.length < readings.length ? 'not-readable' : read.some((m) => m.present.includes(family)) ? 'exact-when-quiet' : 'no-series';
    return {
      id: step.id,
      label: step.label,
      component: step.component,
      from: step.from,
      family,
      status,
      check: step.from === 'apiserver' ? 'apiserver-metrics' : 'kubelet-metrics',
    };
  });
}
