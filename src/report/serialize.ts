/**
 * Machine formats. Top-level keys always come out in the schema's order
 * (whatever order a loaded trace file had), so two runs diff cleanly.
 */
import { stringify } from 'yaml';
import type { Trace } from '../trace/types.js';

export const TRACE_KEY_ORDER: readonly (keyof Trace)[] = [
  'schemaVersion',
  'tool',
  'toolVersion',
  'run',
  'outcome',
  'explain',
  'cluster',
  'identity',
  'accessReviews',
  'pod',
  'admission',
  'clock',
  'milestones',
  'phases',
  'scheduling',
  'containers',
  'node',
  'service',
  'observed',
  'spans',
  'metrics',
  'gaps',
  'anomalies',
];

/** The trace with its top-level keys in schema order (the same object values). */
export function orderedTrace(trace: Trace): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of TRACE_KEY_ORDER) if (key in trace) out[key] = trace[key];
  // Keys a newer podtrace added stay, after the known ones.
  for (const [key, value] of Object.entries(trace)) if (!(key in out)) out[key] = value;
  return out;
}

export function renderJson(trace: Trace): string {
  return `${JSON.stringify(orderedTrace(trace), null, 2)}\n`;
}

export function renderYaml(trace: Trace): string {
  // lineWidth 0: component messages stay on one line, as they were written.
  return stringify(orderedTrace(trace), { lineWidth: 0, aliasDuplicateObjects: false });
}
