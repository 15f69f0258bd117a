/**
 * `podtrace doctor`'s judgement: what it found on a cluster
 * (trace/doctor-findings.ts) in, the report out: one check per source podtrace
 * can use, each ok / improve / unknown / info with the one change that would
 * improve it, the precision each step will get (doctor-steps.ts), and the
 * verdict and its exit code. Pure.
 */
import { EXIT } from '../exit-codes.js';
import { isReadError, type DoctorFindings } from '../trace/doctor-findings.js';
import { formatMs } from '../trace/format-ms.js';
import {
  apiserverMetricsCheck,
  imagePullsCheck,
  kubeletEventsCheck,
  kubeletMetricsCheck,
  kubeletTracingCheck,
  BACKEND_CHANGE,
  METRICS_RBAC_CHANGE,
  SPANS_FLAG_CHANGE,
} from './doctor-kubelet.js';
import { eventsPerContainerStart, figurePlans, stepPrecisions } from './doctor-steps.js';
import type { CheckId, DoctorCheck, DoctorReport } from './doctor-types.js';

export const APISERVER_TRACING_CHANGE =
  "turn the API server's tracing on: --tracing-config-file with an apiserver.config.k8s.io/v1 TracingConfiguration (endpoint: <collector>:4317, samplingRatePerMillion: 1000000); " +
  'kind: kubeadmConfigPatches apiServer.extraArgs tracing-config-file with an extraVolume, and the node extraMounts for the file (kind-config.yaml shows them, commented); ' +
  'minikube: put the file in ~/.minikube/files/var/lib/minikube/certs/tracing.yaml and start with --extra-config=apiserver.tracing-config-file=/var/lib/minikube/certs/tracing.yaml';

function clusterCheck(f: DoctorFindings): DoctorCheck {
  const who = isReadError(f.identity) ? `identity unknown (${f.identity.error})` : `as ${f.identity.username}${f.identity.groups.length ? ` (${f.identity.groups.join(', ')})` : ''}`;
  const version = f.version.gitVersion ? `${f.version.gitVersion}${f.version.platform ? ` ${f.version.platform}` : ''}` : 'version unknown';
  return { id: 'cluster', title: 'cluster', status: 'ok', found: `reachable: ${version} at ${f.target.server} (context ${f.target.context}), ${who}` };
}

function accessCheck(f: DoctorFindings): DoctorCheck {
  const id = 'access';
  const title = 'access';
  const ns = f.target.namespace;
  if (!isReadError(f.namespace) && f.namespace.status === 'not-found') {
    return { id, title, status: 'improve', found: `namespace "${ns}" does not exist on ${f.target.server}`, change: `kubectl create namespace ${ns}, or pass -n` };
  }
  const denied = f.access.filter((a) => a.allowed === false);
  const failed = f.access.filter((a) => a.error !== undefined);
  const who = isReadError(f.identity) ? 'this identity' : f.identity.username;
  if (denied.length > 0) {
    const files = [...new Set(denied.map((a) => a.grantedBy))];
    const namespaceNote = ns !== 'default' && files.includes('deploy/rbac.yaml') ? ` and deploy/rbac.yaml's namespace to ${ns}` : '';
    return {
      id,
      title,
      status: 'improve',
      found: `${who} may not ${denied.map((a) => a.what).join(', ')} (namespace ${ns})`,
      change:
        files.length === 1 && files[0] === 'deploy/rbac-metrics.yaml'
          ? METRICS_RBAC_CHANGE
          : `kubectl apply ${files.map((file) => `-f ${file}`).join(' ')} (they bind the ServiceAccount default/podtrace: for another identity change their subjects${namespaceNote})`,
    };
  }
  if (failed.length > 0) return { id, title, status: 'unknown', found: `could not review ${failed.map((a) => a.what).join(', ')}: ${failed[0]!.error}` };
  return { id, title, status: 'ok', found: `${who} may ${f.access.map((a) => a.what).join(', ')} (namespace ${ns})` };
}

function apiserverTracingCheck(f: DoctorFindings): DoctorCheck {
  const id = 'apiserver-spans';
  const title = 'API server spans';
  const b = f.backend;
  if (b === undefined) {
    return { id, title, status: 'unknown', found: "not checked: no trace backend given (podtrace would send one traced request and look for the API server's span of it)", change: SPANS_FLAG_CHANGE };
  }
  if (b.error !== undefined) return { id, title, status: 'unknown', found: b.error, change: BACKEND_CHANGE };
  const probe = b.apiserver;
  if (probe === undefined) return { id, title, status: 'unknown', found: 'no traced request was sent' };
  if (!probe.found && probe.interrupted) {
    return { id, title, status: 'unknown', found: `interrupted after ${formatMs(probe.waitedMs)}, before a span of the traced ${probe.request} reached ${b.url}`, change: 'run it again and let it wait (up to 8 s for the batched export)' };
  }
  if (!probe.found) {
    return {
      id,
      title,
      status: 'improve',
      found: `no span of a traced ${probe.request} reached ${b.url} within ${formatMs(probe.waitedMs)}: the API server's tracing is off, samples too little, or exports elsewhere`,
      change: APISERVER_TRACING_CHANGE,
    };
  }
  const where = probe.inRunTrace
    ? "in podtrace's own trace"
    : "in a trace of the API server's own, found by its Audit-ID (the server adopts podtrace's trace context only from system:masters and system:monitoring)";
  return { id, title, status: 'ok', found: `a traced ${probe.request} reached ${b.url} within ${formatMs(probe.waitedMs)}, ${where}` };
}

function auditCheck(f: DoctorFindings): DoctorCheck {
  const id = 'audit';
  const title = 'audit';
  const tail = "; podtrace does not read the audit log (the API does not serve it), but its requests carry Audit-ID podtrace-<trace id>-<span id> (in a recording's request-traced), so a run's entries can be found in it";
  const m = f.apiserverMetrics;
  if (isReadError(m)) return { id, title, status: 'info', found: `not checkable: the audit log is not served by the API, and /metrics (which counts audit events) could not be read` };
  if (m.audit === undefined || Object.keys(m.audit.levels).length === 0) {
    return { id, title, status: 'info', found: `the API server evaluates no audit policy (no apiserver_audit_level_total series)${tail}` };
  }
  const levels = Object.entries(m.audit.levels)
    .map(([level, n]) => `${level} ${n}`)
    .join(', ');
  const events = m.audit.events !== undefined ? `, ${m.audit.events} events written` : '';
  return { id, title, status: 'info', found: `the API server evaluates an audit policy (requests by level: ${levels}${events})${tail}` };
}

export function judge(f: DoctorFindings, toolVersion: string): DoctorReport {
  const checks: DoctorCheck[] = [
    clusterCheck(f),
    accessCheck(f),
    apiserverTracingCheck(f),
    kubeletTracingCheck(f),
    kubeletEventsCheck(f, eventsPerContainerStart()),
    imagePullsCheck(f),
    apiserverMetricsCheck(f),
    kubeletMetricsCheck(f),
    auditCheck(f),
  ];
  const byId = new Map<CheckId, DoctorCheck>(checks.map((c) => [c.id, c]));
  const verdict = checks.some((c) => c.status === 'improve' || c.status === 'unknown') ? 'improve' : 'ok';
  return {
    kind: 'podtrace-doctor',
    schemaVersion: 1,
    toolVersion,
    cluster: {
      context: f.target.context,
      server: f.target.server,
      version: f.version.gitVersion,
      user: f.target.user,
      namespace: f.target.namespace,
      ...(isReadError(f.identity) ? {} : { username: f.identity.username }),
    },
    verdict,
    exitCode: verdict === 'ok' ? EXIT.ok : EXIT.doctorImprove,
    checks,
    steps: stepPrecisions(f, byId),
    figures: figurePlans(f),
  };
}
