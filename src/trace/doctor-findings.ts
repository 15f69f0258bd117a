/**
 * What `podtrace doctor` found on a cluster: the contract between its
 * collector (collect/doctor.ts, which asks the cluster and the trace backend)
 * and its judgement (analysis/doctor.ts), like observation.ts is between the
 * watchers and reconstruct(). With the pure readings of the raw answers the
 * collector keeps: a kubelet's /configz and a component's /metrics. Never
 * credentials. Pure.
 */

/** A read that failed: the one-line error, and whether RBAC refused it (403). */
export interface ReadError {
  error: string;
  forbidden: boolean;
}

export type Read<T> = T | ReadError;

export function isReadError(value: unknown): value is ReadError {
  return typeof value === 'object' && value !== null && typeof (value as ReadError).error === 'string';
}

/** The parts of a kubelet's running configuration that decide what podtrace can see. */
export interface KubeletConfigFacts {
  /** The `tracing` block (absent: the kubelet's tracing is off). */
  tracing?: { endpoint?: string; samplingRatePerMillion?: number };
  eventRecordQPS?: number;
  eventBurst?: number;
  serializeImagePulls?: boolean;
  maxParallelImagePulls?: number;
  registryPullQPS?: number;
  registryBurst?: number;
  featureGates?: Record<string, boolean>;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/** A kubelet's /configz answer (`{ kubeletconfig: {...} }`) read; undefined when it is not one. */
export function kubeletConfigFacts(configz: unknown): KubeletConfigFacts | undefined {
  const config = (configz as { kubeletconfig?: unknown } | null)?.kubeletconfig;
  if (typeof config !== 'object' || config === null) return undefined;
  const c = config as Record<string, unknown>;
  const facts: KubeletConfigFacts = {};
  const tracing = c['tracing'];
  if (typeof tracing === 'object' && tracing !== null) {
    const t = tracing as Record<string, unknown>;
    facts.tracing = {
      ...(typeof t['endpoint'] === 'string' ? { endpoint: t['endpoint'] } : {}),
      ...(num(t['samplingRatePerMillion']) !== undefined ? { samplingRatePerMillion: num(t['samplingRatePerMillion'])! } : {}),
    };
  }
  for (const key of ['eventRecordQPS', 'eventBurst', 'maxParallelImagePulls', 'registryPullQPS', 'registryBurst'] as const) {
    const value = num(c[key]);
    if (value !== undefined) facts[key] = value;
  }
  const serialize = bool(c['serializeImagePulls']);
  if (serialize !== undefined) facts.serializeImagePulls = serialize;
  const gates = c['featureGates'];
  if (typeof gates === 'object' && gates !== null) {
    facts.featureGates = Object.fromEntries(Object.entries(gates).filter((e): e is [string, boolean] => typeof e[1] === 'boolean'));
  }
  return facts;
}

/** What a component's /metrics says podtrace can read from it. */
export interface MetricsFacts {
  /** Of the histograms asked about, those with at least one series, and those with none. */
  present: string[];
  absent: string[];
  /** The API server's audit counters, when it has them: requests by the audit level its policy gave them, events written. */
  audit?: { levels: Record<string, number>; events?: number };
}

/** Reads a Prometheus text exposition for the given histogram families and the audit counters. */
export function metricsFacts(text: string, families: readonly string[]): MetricsFacts {
  const seen = new Set<string>();
  const levels: Record<string, number> = {};
  let events: number | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    for (const family of families) {
      if (line.startsWith(family) && /^_(count|sum|bucket)[{ ]/.test(line.slice(family.length))) seen.add(family);
    }
    if (line.startsWith('apiserver_audit_')) {
      const level = /^apiserver_audit_level_total\{level="([^"]*)"\} (\S+)$/.exec(line);
      if (level) levels[level[1]!] = Number(level[2]);
      const written = /^apiserver_audit_event_total (\S+)$/.exec(line);
      if (written) events = Number(written[1]);
    }
  }
  const hasAudit = Object.keys(levels).length > 0 || events !== undefined;
  return {
    present: families.filter((f) => seen.has(f)),
    absent: families.filter((f) => !seen.has(f)),
    ...(hasAudit ? { audit: { levels, ...(events !== undefined ? { events } : {}) } } : {}),
  };
}

/** One access review podtrace needs answered yes, and the manifest in deploy/ that grants it. */
export interface AccessFinding {
  /** e.g. 'create pods', 'watch events.k8s.io events', 'get /metrics'. */
  what: string;
  grantedBy: 'deploy/rbac.yaml' | 'deploy/rbac-metrics.yaml';
  allowed?: boolean;
  error?: string;
}

export interface KubeletFinding {
  node: string;
  kubeletVersion?: string;
  config: Read<KubeletConfigFacts>;
  metrics: Read<MetricsFacts>;
  /**
   * With a trace backend: whether it holds spans of this kubelet (resource
   * attribute host.name = the node's name) from the last minutes, or only of
   * other hosts' kubelets.
   */
  spans?: 'found' | 'other-hosts' | 'none';
}

/** One request podtrace sent with trace context and Audit-ID, looked for in the backend. */
export interface SpanProbe {
  /** What was sent, e.g. 'GET /version'. */
  request: string;
  found: boolean;
  /** How long podtrace looked (ms). */
  waitedMs: number;
  /** The server adopted podtrace's trace context (a caller in system:masters or system:monitoring). */
  inRunTrace?: boolean;
  /** A signal ended the wait before the span came: nothing can be concluded. */
  interrupted?: true;
}

export interface BackendFinding {
  url: string;
  /** The backend did not answer or is not a Jaeger query API. */
  error?: string;
  apiserver?: SpanProbe;
  /** How finely the backend keeps times, from the spans it answered with (ms: 0.000001 is ns). */
  resolutionMs?: number;
  /** How far back the kubelets' spans were looked for (ms). */
  kubeletWindowMs?: number;
}

export interface DoctorFindings {
  target: { context: string; cluster: string; user: string; server: string; namespace: string; authMethod: string };
  version: { gitVersion: string; platform: string };
  identity: Read<{ username: string; groups: string[] }>;
  namespace: Read<{ status: 'exists' | 'not-found' | 'forbidden' }>;
  access: AccessFinding[];
  /** The cluster's nodes: how many, and the ones whose kubelets were read (at most a few). */
  nodes: Read<{ total: number; read: string[] }>;
  kubelets: KubeletFinding[];
  apiserverMetrics: Read<MetricsFacts>;
  /** Absent: no --spans (nor PODTRACE_SPANS). */
  backend?: BackendFinding;
}
