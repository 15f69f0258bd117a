/**
 * `podtrace doctor`'s judgement of the kubelets it read: their tracing, their
 * event rate limit, their image pull settings, their /metrics. Several nodes
 * in one line: grouped by what they have. Pure.
 */
import { isReadError, type DoctorFindings, type KubeletConfigFacts, type KubeletFinding, type MetricsFacts } from '../trace/doctor-findings.js';
import { formatMs } from '../trace/format-ms.js';
import type { DoctorCheck } from './doctor-types.js';

/** The kubelet's defaults (pkg/kubelet/apis/config/v1beta1/defaults.go): eventRecordQPS 50, eventBurst 100. */
export const KUBELET_EVENT_QPS_DEFAULT = 50;
/**
 * The kubelet hands eventRecordQPS and eventBurst to its event client's
 * rest.Config (cmd/kubelet/app/server.go), and client-go reads 0 as its
 * defaults (rest.DefaultQPS 5, rest.DefaultBurst 10, in rest.RESTClientFor),
 * though the KubeletConfiguration docs call an eventRecordQPS of 0 "no limit".
 */
export const CLIENT_GO_DEFAULT_QPS = 5;
export const CLIENT_GO_DEFAULT_BURST = 10;
const FULL_SAMPLING = 1_000_000;

export const SPANS_FLAG_CHANGE = 'give --spans URL (the Jaeger query API your components export to, e.g. http://127.0.0.1:16686; or PODTRACE_SPANS)';
export const BACKEND_CHANGE = 'check that the backend is up and that --spans names its Jaeger query API (HTTP, port 16686 by default), not its OTLP endpoint';
export const METRICS_RBAC_CHANGE =
  'kubectl apply -f deploy/rbac-metrics.yaml (get /metrics, get nodes/proxy; it binds the ServiceAccount default/podtrace: for another identity change its subjects)';

/** "a", "a and b", "a, b, c and 2 more". */
export function nodesText(nodes: readonly string[]): string {
  if (nodes.length <= 1) return nodes[0] ?? 'no node';
  if (nodes.length <= 3) return `${nodes.slice(0, -1).join(', ')} and ${nodes.at(-1)}`;
  return `${nodes.slice(0, 3).join(', ')} and ${nodes.length - 3} more`;
}

function minorOf(version: string | undefined): number | undefined {
  const m = /^v?1\.(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : undefined;
}

interface ReadConfigs {
  read: Array<{ k: KubeletFinding; c: KubeletConfigFacts }>;
  /** The nodes whose /configz could not be read, and why. */
  unread: string;
  forbidden: boolean;
}

function configs(f: DoctorFindings): ReadConfigs {
  const read = f.kubelets.flatMap((k) => (isReadError(k.config) ? [] : [{ k, c: k.config }]));
  const failed = f.kubelets.filter((k) => isReadError(k.config));
  const first = failed[0]?.config;
  return {
    read,
    unread: failed.length === 0 ? '' : `${nodesText(failed.map((k) => k.node))} (${isReadError(first) ? first.error : ''})`,
    forbidden: failed.some((k) => isReadError(k.config) && k.config.forbidden),
  };
}

/** When no kubelet could be read at all: why, and what to do. */
function unreadable(id: DoctorCheck['id'], title: string, f: DoctorFindings, what: string): DoctorCheck | undefined {
  if (isReadError(f.nodes)) {
    return { id, title, status: 'unknown', found: `could not list the nodes: ${f.nodes.error}`, ...(f.nodes.forbidden ? { change: 'kubectl apply -f deploy/rbac.yaml (get, list nodes)' } : {}) };
  }
  if (f.kubelets.length === 0) return { id, title, status: 'unknown', found: 'the cluster has no node' };
  const { read, unread, forbidden } = configs(f);
  if (read.length > 0) return undefined;
  return {
    id,
    title,
    status: 'unknown',
    found: forbidden ? `not allowed to read ${what} of ${nodesText(f.kubelets.map((k) => k.node))} (get nodes/proxy)` : `could not read ${what} of ${unread}`,
    change: forbidden ? METRICS_RBAC_CHANGE : "the API server reaches each kubelet through its node proxy: check that the kubelet is up and the API server can reach it (kubectl get --raw /api/v1/nodes/NODE/proxy/configz)",
  };
}

/** Nodes that could not be read lower an ok to unknown, and say so. */
function withUnread(check: DoctorCheck, f: DoctorFindings): DoctorCheck {
  const { unread, forbidden } = configs(f);
  if (unread === '') return check;
  const status = check.status === 'ok' ? 'unknown' : check.status;
  return { ...check, status, found: `${check.found}; not read: ${unread}`, ...(check.change === undefined && forbidden ? { change: METRICS_RBAC_CHANGE } : {}) };
}

const notAllRead = (f: DoctorFindings): string => (!isReadError(f.nodes) && f.nodes.total > f.nodes.read.length ? ` (${f.nodes.read.length} of ${f.nodes.total} nodes read)` : '');

export function kubeletTracingCheck(f: DoctorFindings): DoctorCheck {
  const id = 'kubelet-spans';
  const title = 'kubelet spans';
  const none = unreadable(id, title, f, "the kubelet's /configz");
  const b = f.backend;
  const arrive = b !== undefined && b.error === undefined && f.kubelets.length > 0 && f.kubelets.every((k) => k.spans === 'found');
  if (none && arrive) {
    const window = formatMs(b.kubeletWindowMs ?? 0);
    return { id, title, status: 'ok', found: `${b.url} has spans of the kubelet on ${nodesText(f.kubelets.map((k) => k.node))} from the last ${window}; its /configz was not read, so its sampling rate is unknown` };
  }
  if (none) return none;
  const { read } = configs(f);
  const old = read.some(({ k }) => (minorOf(k.kubeletVersion) ?? 99) < 27);
  const change =
    'add `tracing: {endpoint: <collector>:4317, samplingRatePerMillion: 1000000}` to the KubeletConfiguration and restart the kubelet ' +
    "(kind: the KubeletConfiguration patch in kind-config.yaml shows it; minikube: /var/lib/kubelet/config.yaml in the node)" +
    (old ? '; before 1.27 also featureGates: {KubeletTracing: true} (beta and on from 1.27, GA from 1.34)' : '');
  const off = read.filter(({ c }) => c.tracing === undefined || c.featureGates?.['KubeletTracing'] === false).map(({ k }) => k.node);
  if (off.length > 0) {
    return withUnread({ id, title, status: 'improve', found: `tracing off on ${nodesText(off)}: no tracing block in its KubeletConfiguration${notAllRead(f)}`, change }, f);
  }
  const low = read.filter(({ c }) => (c.tracing?.samplingRatePerMillion ?? 0) < FULL_SAMPLING);
  if (low.length > 0) {
    const rate = low[0]!.c.tracing?.samplingRatePerMillion;
    return withUnread(
      {
        id,
        title,
        status: 'improve',
        found: `the kubelet on ${nodesText(low.map(({ k }) => k.node))} samples ${rate === undefined ? 'only under a sampled parent (samplingRatePerMillion unset), and a pod sync has none' : `${rate} spans per million`}: most pods' syncs go untraced`,
        change: 'set tracing.samplingRatePerMillion: 1000000 in the KubeletConfiguration and restart the kubelet',
      },
      f,
    );
  }
  const endpoints = [...new Set(read.map(({ c }) => c.tracing?.endpoint ?? 'localhost:4317 (the default)'))].join(', ');
  const on = `the kubelet traces on ${nodesText(read.map(({ k }) => k.node))} (endpoint ${endpoints}, every span sampled)${notAllRead(f)}`;
  if (b === undefined) return withUnread({ id, title, status: 'unknown', found: `${on}; not checked whether its spans reach a backend podtrace can read`, change: SPANS_FLAG_CHANGE }, f);
  if (b.error !== undefined) return withUnread({ id, title, status: 'unknown', found: `${on}; ${b.error}`, change: BACKEND_CHANGE }, f);
  const missing = read.filter(({ k }) => k.spans !== 'found');
  const window = formatMs(b.kubeletWindowMs ?? 0);
  if (missing.length > 0) {
    const others = missing.some(({ k }) => k.spans === 'other-hosts') ? " (it has other kubelets' spans: does the node's hostname differ from its name?)" : '';
    return withUnread(
      {
        id,
        title,
        status: 'improve',
        found: `${on}, but ${b.url} has no span of the kubelet on ${nodesText(missing.map(({ k }) => k.node))} from the last ${window}${others}`,
        change: `point the kubelet's tracing.endpoint (now ${endpoints}) at the collector that feeds ${b.url}`,
      },
      f,
    );
  }
  return withUnread({ id, title, status: 'ok', found: `${on}; ${b.url} has their spans from the last ${window}` }, f);
}

export function kubeletEventsCheck(f: DoctorFindings, eventsPerContainer: number): DoctorCheck {
  const id = 'kubelet-events';
  const title = 'kubelet events';
  const none = unreadable(id, title, f, "the kubelet's /configz");
  if (none) return none;
  const change =
    'set eventRecordQPS: 1000 and eventBurst: 1000 in the KubeletConfiguration (kind-config.yaml does; minikube: --extra-config=kubelet.event-qps=1000 --extra-config=kubelet.event-burst=1000)';
  const limits = configs(f).read.map(({ k, c }) => {
    const qps = c.eventRecordQPS ?? KUBELET_EVENT_QPS_DEFAULT;
    const burst = c.eventBurst ?? 100;
    return { node: k.node, qps, burst, effectiveQps: qps === 0 ? CLIENT_GO_DEFAULT_QPS : qps, effectiveBurst: burst === 0 ? CLIENT_GO_DEFAULT_BURST : burst };
  });
  const zero = limits.filter((l) => l.qps === 0);
  const low = limits.filter((l) => l.qps > 0 && l.qps < KUBELET_EVENT_QPS_DEFAULT);
  const late = 'events then come late: the trace waits for them, and its measured watch bound widens';
  if (zero.length > 0) {
    const l = zero[0]!;
    return withUnread(
      {
        id,
        title,
        status: 'improve',
        found: `eventRecordQPS 0 on ${nodesText(zero.map((z) => z.node))}: the kubelet hands it to client-go, which reads 0 as ${l.effectiveQps} events/s (burst ${l.effectiveBurst}), though the KubeletConfiguration docs call 0 no limit; ${late}`,
        change,
      },
      f,
    );
  }
  if (low.length > 0) {
    const l = low[0]!;
    return withUnread(
      { id, title, status: 'improve', found: `eventRecordQPS ${l.qps} on ${nodesText(low.map((z) => z.node))}, below the kubelet's default of ${KUBELET_EVENT_QPS_DEFAULT}/s; ${late} when pods start together`, change },
      f,
    );
  }
  const groups = new Map<string, string[]>();
  for (const l of limits) {
    const key = `eventRecordQPS ${l.qps}, eventBurst ${l.burst}: ${l.effectiveBurst} events at once, then ${l.effectiveQps}/s, about ${Math.floor(l.effectiveBurst / eventsPerContainer)} containers starting together before events queue`;
    groups.set(key, [...(groups.get(key) ?? []), l.node]);
  }
  const found = [...groups].map(([text, nodes]) => `${nodesText(nodes)}: ${text}`).join('; ');
  return withUnread({ id, title, status: 'ok', found: `${found}; ${eventsPerContainer} kubelet events per container start` }, f);
}

export function imagePullsCheck(f: DoctorFindings): DoctorCheck {
  const id = 'image-pulls';
  const title = 'image pulls';
  const none = unreadable(id, title, f, "the kubelet's /configz");
  if (none) return { ...none, status: 'info' };
  const groups = new Map<string, string[]>();
  for (const { k, c } of configs(f).read) {
    const serial = c.serializeImagePulls !== false;
    const parallel = serial
      ? "serializeImagePulls: one pull at a time, so a pull may wait for other pods' (the kubelet's Pulled message, in the trace, gives the pull with and without the wait)"
      : `parallel pulls${c.maxParallelImagePulls ? ` (at most ${c.maxParallelImagePulls})` : ''}`;
    const qps = (c.registryPullQPS ?? 5) === 0 ? 'no registry pull rate limit' : `at most ${c.registryPullQPS ?? 5} pulls/s to registries (burst ${c.registryBurst ?? 10})`;
    const key = `${parallel}, ${qps}`;
    groups.set(key, [...(groups.get(key) ?? []), k.node]);
  }
  const found = [...groups].map(([text, nodes]) => `${nodesText(nodes)}: ${text}`).join('; ');
  return withUnread({ id, title, status: 'info', found }, f);
}

function metricsFound(m: MetricsFacts, who: string): string {
  const total = m.present.length + m.absent.length;
  const absent = m.absent.length > 0 ? `; no series yet of ${m.absent.join(', ')} (none of those operations since ${who} started)` : '';
  return `readable: ${m.present.length} of ${total} histograms podtrace reads have series${absent}`;
}

export function apiserverMetricsCheck(f: DoctorFindings): DoctorCheck {
  const id = 'apiserver-metrics';
  const title = 'API server metrics';
  const m = f.apiserverMetrics;
  if (isReadError(m)) {
    return m.forbidden
      ? { id, title, status: 'improve', found: 'not allowed to read /metrics (get /metrics)', change: METRICS_RBAC_CHANGE }
      : { id, title, status: 'unknown', found: `could not read /metrics: ${m.error}` };
  }
  return { id, title, status: 'ok', found: metricsFound(m, 'the API server') };
}

export function kubeletMetricsCheck(f: DoctorFindings): DoctorCheck {
  const id = 'kubelet-metrics';
  const title = 'kubelet metrics';
  const none = unreadable(id, title, f, "the kubelet's /configz");
  if (none && (isReadError(f.nodes) || f.kubelets.length === 0)) return none;
  const failed = f.kubelets.filter((k) => isReadError(k.metrics));
  const ok = f.kubelets.flatMap((k) => (isReadError(k.metrics) ? [] : [{ node: k.node, m: k.metrics }]));
  const first = failed[0]?.metrics;
  const error = isReadError(first) ? first : undefined;
  const failure = error?.forbidden
    ? `not allowed to read the kubelet's /metrics on ${nodesText(failed.map((k) => k.node))} (get nodes/proxy)`
    : `could not read the kubelet's /metrics on ${nodesText(failed.map((k) => k.node))} (${error?.error ?? ''})`;
  if (ok.length === 0 || error) {
    const found = ok.length === 0 ? failure : `${metricsFound(ok[0]!.m, 'the kubelet')} on ${nodesText(ok.map((o) => o.node))}; ${failure}`;
    return error?.forbidden ? { id, title, status: 'improve', found, change: METRICS_RBAC_CHANGE } : { id, title, status: 'unknown', found };
  }
  return { id, title, status: 'ok', found: `${metricsFound(ok[0]!.m, 'the kubelet')} (${nodesText(ok.map((o) => o.node))})${notAllRead(f)}` };
}
