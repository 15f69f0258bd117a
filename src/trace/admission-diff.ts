/**
 * What the API server changed between the manifest podtrace sent and the
 * object it stored: defaulting plus mutating admission (ServiceAccount token
 * volume, tolerations, pull policy, ...). Server bookkeeping is left out.
 */
import type { FieldChange } from './types.js';
import { isRecord, parseQuantity } from './kube-objects.js';

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

/** Container fields the API server defaults (pkg/apis/core/v1/defaults.go) when they are absent. */
const CONTAINER_DEFAULTS = new Set([
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'resources',
  'volumeMounts',
]);
/** Pod spec fields the API server or its built-in admission (ServiceAccount, DefaultTolerationSeconds, Priority) sets. */
const SPEC_DEFAULTS = new Set([
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'dnsPolicy',
  'serviceAccountName',
  'serviceAccount',
  'securityContext',
  'schedulerName',
  'tolerations',
  'priority',
  'enableServiceLinks',
  'preemptionPolicy',
  'volumes',
]);
const PROBE_DEFAULTS = new Set(['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'scheme']);

/** Whether a change is what the API server does to every pod, or something a webhook or policy did. */
function origin(change: FieldChange, stored: unknown): 'defaulting' | 'admission' {
  // a resource quantity written back in its canonical form (1000 cpu stored as 1k, 0.5 as 500m): the same amount
  if (change.op === 'changed' && /\.resources\.(requests|limits)\.[\w./-]+$/.test(change.path) && sameQuantity(change.before, change.after)) return 'defaulting';
  if (change.op !== 'added') return 'admission';
  if (change.path === 'metadata.namespace') return 'defaulting';
  // the ServiceAccount token volume and its mount appended to ones the pod had
  if (/^spec\.volumes\[\d+\]$/.test(change.path)) return tokenOnly([change.after], 'name') ? 'defaulting' : 'admission';
  if (/^spec\.(?:initContainers|containers)\[\d+\]\.volumeMounts\[\d+\]$/.test(change.path)) return tokenOnly([change.after], 'mountPath') ? 'defaulting' : 'admission';
  const container = /^spec\.(?:initContainers|containers)\[\d+\]\.(.+)$/.exec(change.path);
  if (container) {
    const rest = container[1]!;
    if (CONTAINER_DEFAULTS.has(rest)) return rest === 'volumeMounts' ? (tokenOnly(change.after, 'mountPath') ? 'defaulting' : 'admission') : 'defaulting';
    if (/^ports\[\d+\]\.protocol$/.test(rest)) return 'defaulting';
    // requests default to the limits when only limits are set
    if (rest === 'resources.requests' && requestsAreLimits(change.path, stored)) return 'defaulting';
    const probe = /^(?:readiness|liveness|startup)Probe\.(?:httpGet\.)?(\w+)$/.exec(rest);
    if (probe && PROBE_DEFAULTS.has(probe[1]!)) return 'defaulting';
    return 'admission';
  }
  const spec = /^spec\.(\w+)$/.exec(change.path);
  if (spec && SPEC_DEFAULTS.has(spec[1]!)) return spec[1] === 'volumes' ? (tokenOnly(change.after, 'name') ? 'defaulting' : 'admission') : 'defaulting';
  return 'admission';
}

function sameQuantity(a: unknown, b: unknown): boolean {
  const x = parseQuantity(a as string | number | undefined);
  const y = parseQuantity(b as string | number | undefined);
  return x !== undefined && y !== undefined && Math.abs(x - y) <= Math.abs(x) * 1e-9;
}

/** The stored container's requests equal its limits: what the API server copies when only limits were given. */
function requestsAreLimits(path: string, stored: unknown): boolean {
  const m = /^spec\.(initContainers|containers)\[(\d+)\]/.exec(path);
  if (!m || !isRecord(stored) || !isRecord(stored['spec'])) return false;
  const list = stored['spec'][m[1]!];
  const container = Array.isArray(list) ? list[Number(m[2])] : undefined;
  const resources = isRecord(container) && isRecord(container['resources']) ? container['resources'] : undefined;
  return resources !== undefined && resources['limits'] !== undefined && sameJson(resources['requests'], resources['limits']);
}

/** Only the ServiceAccount token volume (kube-api-access-xxxxx) or its mount: what the ServiceAccount admission adds. */
function tokenOnly(value: unknown, key: 'name' | 'mountPath'): boolean {
  if (!Array.isArray(value) || value.length === 0) return false;
  return value.every((v) =>
    isRecord(v) && (key === 'name' ? /^kube-api-access-/.test(String(v['name'])) : v['mountPath'] === '/var/run/secrets/kubernetes.io/serviceaccount'),
  );
}

/** Field-by-field differences, in the submitted manifest's key order then the additions, each with its likely origin. */
export function diffAdmission(submitted: unknown, stored: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walk('', submitted, stored, out);
  return out.map((c) => ({ ...c, origin: origin(c, stored) }));
}
