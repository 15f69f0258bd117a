/**
 * The parts of Kubernetes objects reconstruct() reads, as optional-everything
 * views over the JSON the watchers recorded (recordings come from many
 * cluster versions; no field is guaranteed).
 */
import { eventTime, type ParsedTime } from './event-time.js';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

/** A lifecycle hook: exactly one of its actions is set. */
export interface LifecycleHandler {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port?: number | string };
  tcpSocket?: unknown;
  sleep?: { seconds?: number };
}

export interface ContainerSpec {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  restartPolicy?: string;
  resources?: ResourceRequirements;
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  startupProbe?: unknown;
  lifecycle?: { postStart?: LifecycleHandler; preStop?: LifecycleHandler };
}

/** "exec sh -c sleep 2", "httpGet /hook", "sleep 2s": what a hook does, in a few words. */
export function describeHandler(h: LifecycleHandler): string {
  if (h.exec) return `exec ${(h.exec.command ?? []).join(' ')}`.trim();
  if (h.httpGet) return `httpGet ${h.httpGet.path ?? '/'}${h.httpGet.port !== undefined ? ` on ${h.httpGet.port}` : ''}`;
  if (h.sleep) return `sleep ${h.sleep.seconds ?? 0}s`;
  return h.tcpSocket ? 'tcpSocket' : 'unknown action';
}

export interface PodSpec {
  nodeName?: string;
  schedulerName?: string;
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  overhead?: Record<string, string | number>;
  restartPolicy?: string;
}

export interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: {
    exitCode?: number;
    reason?: string;
    signal?: number;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
  };
}

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface PodStatus {
  phase?: string;
  reason?: string;
  message?: string;
  conditions?: PodCondition[];
  startTime?: string;
  podIP?: string;
  hostIP?: string;
  qosClass?: string;
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: PodSpec;
  status?: PodStatus;
}

export interface ObjectReference {
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  fieldPath?: string;
}

/** core/v1 Event (also how events.k8s.io/v1 events look when read through core/v1). */
export interface CoreEvent {
  metadata?: ObjectMeta;
  involvedObject?: ObjectReference;
  reason?: string;
  message?: string;
  type?: string;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
}

/** events.k8s.io/v1 Event. */
export interface EventsV1Event {
  metadata?: ObjectMeta;
  regarding?: ObjectReference;
  reason?: string;
  note?: string;
  type?: string;
  reportingController?: string;
  reportingInstance?: string;
  action?: string;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
  deprecatedSource?: { component?: string; host?: string };
  deprecatedCount?: number;
  deprecatedFirstTimestamp?: string | null;
  deprecatedLastTimestamp?: string | null;
}

export interface Node {
  metadata?: ObjectMeta;
  status?: {
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }>;
    allocatable?: Record<string, string | number>;
    capacity?: Record<string, string | number>;
    nodeInfo?: {
      kubeletVersion?: string;
      containerRuntimeVersion?: string;
      osImage?: string;
      kernelVersion?: string;
      architecture?: string;
    };
  };
}

/** A non-empty string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A finite number, else undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asPod(value: unknown): Pod | undefined {
  return isRecord(value) ? (value as Pod) : undefined;
}

/** One event, whichever API it arrived through, with the fields matching needs. */
export interface NormalizedEvent {
  /** metadata.uid, or namespace/name when the uid is missing: one key per stored event. */
  key: string;
  name: string;
  api: 'core/v1' | 'events.k8s.io/v1';
  reason: string;
  message: string;
  type: string;
  /** source.component / reportingComponent / reportingController. */
  component: string;
  host?: string;
  regarding: ObjectReference;
  count: number;
  /** First occurrence, emitting component's clock. */
  first?: ParsedTime;
  /** Latest occurrence (same as first when count is 1). */
  last?: ParsedTime;
  /** Client clock when podtrace first saw this event. */
  firstObservedAt: number;
  /** That first sighting was a watch delivering it as it happened (ADDED/MODIFIED), not a LIST of what existed. */
  firstSeenOnWatch?: boolean;
  /** Client clock when podtrace saw its latest version. */
  lastObservedAt: number;
}

export function normalizeCoreEvent(e: CoreEvent, observedAt: number): NormalizedEvent {
  const name = e.metadata?.name ?? '';
  const count = e.series?.count ?? e.count ?? 1;
  return {
    key: e.metadata?.uid || `${e.metadata?.namespace ?? ''}/${name}`,
    name,
    api: 'core/v1',
    reason: e.reason ?? '',
    message: e.message ?? '',
    type: e.type ?? '',
    component: e.source?.component || e.reportingComponent || '',
    host: e.source?.host || e.reportingInstance || undefined,
    regarding: e.involvedObject ?? {},
    count: count > 0 ? count : 1,
    first: eventTime(e, { occurrence: 'first' }),
    last: eventTime(e, { occurrence: 'last' }),
    firstObservedAt: observedAt,
    lastObservedAt: observedAt,
  };
}

export function normalizeEventsV1(e: EventsV1Event, observedAt: number): NormalizedEvent {
  const name = e.metadata?.name ?? '';
  const count = e.series?.count ?? e.deprecatedCount ?? 1;
  return {
    key: e.metadata?.uid || `${e.metadata?.namespace ?? ''}/${name}`,
    name,
    api: 'events.k8s.io/v1',
    reason: e.reason ?? '',
    message: e.note ?? '',
    type: e.type ?? '',
    component: e.reportingController || e.deprecatedSource?.component || '',
    host: e.reportingInstance || e.deprecatedSource?.host || undefined,
    regarding: e.regarding ?? {},
    count: count > 0 ? count : 1,
    first: eventTime(e, { occurrence: 'first' }),
    last: eventTime(e, { occurrence: 'last' }),
    firstObservedAt: observedAt,
    lastObservedAt: observedAt,
  };
}

const BINARY_SUFFIX: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A resource.Quantity ("100m", "128Mi", "1e3", "0.5") as a plain number of base units. */
export function parseQuantity(value: string | number | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(value.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return base * (BINARY_SUFFIX[suffix] ?? DECIMAL_SUFFIX[suffix] ?? 1);
}

/** A Service's cluster IP, as the API server answered it (undefined for anything else). */
export function clusterIPOf(service: unknown): string | undefined {
  return str((service as { spec?: { clusterIP?: unknown } } | undefined)?.spec?.clusterIP);
}

/** NAME.NAMESPACE.svc.cluster.local: the name a client in the cluster looks a Service up by. */
export function serviceDnsName(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** Whether one of the tolerations lets a pod onto a node with this taint. */
export function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect !== undefined && t.effect !== '' && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return t.key === undefined || t.key === '' || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** "key=value:NoSchedule", as kubectl writes a taint. */
export function describeTaint(taint: Taint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
}
