/**
 * What the API server changed between the manifest podtrace sent and the
 * object it stored: defaulting plus mutating admission (ServiceAccount token
 * volume, tolerations, pull policy, ...). Server bookkeeping is left out.
 */
import type { FieldChange } from './types.js';
import { isRecord } from './kube-objects.js';

const IGNORED_PATHS = new Set([
  'metadata.uid',
  'metadata.resourceVersion',
  'metadata.creationTimestamp',
  'metadata.managedFields',
  'metadata.generation',
  'metadata.selfLink',
  'status',
]);

function join(parent: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (parent ? `${parent}.${key}` : key) : `${parent}[${JSON.stringify(key)}]`;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!sameJson(a[k], b[k])) return false;
    return true;
  }
  return false;
}

function walk(path: string, before: unknown, after: unknown, out: FieldChange[]): void {
  if (IGNORED_PATHS.has(path)) return;
  // A manifest's `creationTimestamp: null` or `resources: null` means absent.
  if (before === null) before = undefined;
  if (after === null) after = undefined;
  if (before === undefined && after === undefined) return;
  if (before === undefined) {
    out.push({ path, op: 'added', after });
    return;
  }
  if (after === undefined) {
    out.push({ path, op: 'removed', before });
    return;
  }
  if (isRecord(before) && isRecord(after)) {
    const keys = [...Object.keys(before)];
    for (const k of Object.keys(after)) if (!(k in before)) keys.push(k);
    for (const k of keys) walk(join(path, k), before[k], after[k], out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) walk(`${path}[${i}]`, before[i], after[i], out);
    return;
  }
  if (!sameJson(before, after)) out.push({ path, op: 'changed', before, after });
}

/** Field-by-field differences, in the submitted manifest's key order then the additions. */
export function diffAdmission(submitted: unknown, stored: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walk('', submitted, stored, out);
  return out;
}
