/** The node section, the window after Ready (--observe, --logs) and the --expose Service, as the trace holds them. */
import type { TimeSource } from './event-time.js';
import type { Component, ProbeFailure } from './types.js';

export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface NodeConditionChange extends NodeCondition {
  previousStatus?: string;
  at: number;
  offsetMs: number;
}

export interface ResourceFit {
  allocatable?: string;
  requested: string;
  /** Millicores for cpu, bytes for the others. */
  allocatableValue?: number;
  requestedValue: number;
}

export interface NodeEventInfo {
  reason: string;
  message: string;
  component: string;
  at: number;
  offsetMs: number;
  source: TimeSource;
  precisionMs: number;
}

export interface NodeInfo {
  name: string;
  kubeletVersion?: string;
  containerRuntimeVersion?: string;
  osImage?: string;
  kernelVersion?: string;
  architecture?: string;
  conditionsAtStart: NodeCondition[];
  conditionChanges: NodeConditionChange[];
  /** Node allocatable (not what is free) vs this pod's effective requests. */
  resources: Record<string, ResourceFit>;
  /** Events about the node that happened during the run (a kubelet restart shows as Starting). */
  events?: NodeEventInfo[];
}

/** A container restart seen while observing: the previous run's end, from lastState.terminated. */
export interface ObservedRestart {
  container: string;
  /** restartCount after this restart. */
  restartCount: number;
  /** When the previous run ended (lastState.terminated.finishedAt, 1 s), else when the watch saw the restart. */
  at: number;
  offsetMs: number;
  source: TimeSource;
  precisionMs: number;
  /** e.g. OOMKilled, Error, Completed. */
  reason?: string;
  exitCode?: number;
  signal?: number;
}

export interface UsageSample {
  offsetMs: number;
  container: string;
  cpuMillicores?: number;
  memoryBytes?: number;
}

/** `--observe DURATION` / `--logs N`: what happened after Ready, before podtrace deleted the pod. */
export interface Observed {
  fromOffsetMs: number;
  /** How long the window was open (shorter than asked when interrupted or the pod went away). */
  durationMs: number;
  requestedMs: number;
  restarts: ObservedRestart[];
  /** Probe failures inside the window (the containers' probeFailures, from their first in the window). */
  probeFailures: Array<ProbeFailure & { container: string }>;
  usage: {
    /** kubelet-stats: the node's /stats/summary through the API server; metrics-api: metrics.k8s.io. */
    source?: 'kubelet-stats' | 'metrics-api';
    samples: UsageSample[];
    peak: Array<{ container: string; cpuMillicores?: number; memoryBytes?: number }>;
    /** Why there are no samples. */
    error?: string;
  };
  /** --logs N: the first lines of each container's log. */
  logs?: Array<{ container: string; lines: string[]; truncated: boolean; error?: string }>;
}

/** `--expose PORT`: the Service podtrace made for the pod, and whether its name can resolve. */
export interface ServiceInfo {
  name: string;
  namespace: string;
  port: number;
  clusterIP?: string;
  /** NAME.NAMESPACE.svc.cluster.local: what a client in the cluster would look up. */
  dnsName: string;
  /** Whether the cluster runs a DNS Service (kube-system/kube-dns); unknown when it could not be read. */
  clusterDns: 'found' | 'absent' | 'unknown';
  /** The pod's address in the Service's EndpointSlice, once it appeared. */
  endpoint?: { address: string; ready: boolean };
  /**
   * The tries to use the Service from podtrace's machine: a connection to the cluster IP ('route')
   * and a query of the cluster DNS for its name ('dns'); `ok` false when none worked (on kind or
   * minikube the Service range rarely routes to the machine podtrace runs on).
   */
  reach?: ServiceReach[];
  /** The in-cluster probe pod gave fewer answers than it had targets (or was not created): why. */
  probe?: { pod: string; image?: string; node?: string; error: string };
  /** The Service could not be created. */
  error?: string;
}

/**
 * One vantage point's tries at the Service: 'client' is podtrace's machine, 'pod' a probe pod in
 * the cluster (on `node`). `firstTry`: the probe's first try already worked, so the change came
 * between the Service's creation and that try (a wide interval: the probe pod was still starting).
 */
export interface ServiceReach {
  vantage: 'client' | 'pod';
  node?: string;
  what: 'route' | 'dns';
  target: string;
  ok: boolean;
  attempts: number;
  firstTry?: true;
  error?: string;
}

/** One component span of the run, as a sub-step (span-steps.ts). */
export interface SpanStep {
  /** `<service>.<span id>`. */
  id: string;
  label: string;
  /** Who does the work: the API server, the kubelet, the runtime (for the kubelet's CRI calls). */
  component: Component;
  /** The service that emitted the span (its resource's service.name). */
  service: string;
  /** The span's own name. */
  name: string;
  startOffsetMs: number;
  durationMs: number;
  /** The resolution the trace backend kept (ns or µs). */
  precisionMs: number;
  /** Nesting, for display: 0 for a request or a sync, 1.. for what happens inside. */
  depth: number;
  container?: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** Exact times on the emitter's clock, ns since the epoch. */
  startUnixNano: string;
  endUnixNano: string;
  detail?: string;
  error?: string;
  /** An event times the same moment (this span's end): which milestone, its source, and span minus event. */
  alsoTimedBy?: { milestone: string; source: TimeSource; differenceMs: number };
}

/** --spans: the components' own spans of the run. */
export interface SpanSection {
  backend?: string;
  /** What the backend kept: 0.000001 (ns) or 0.001 (µs). */
  resolutionMs: number;
  /** How long podtrace waited for batched exports. */
  waitedMs?: number;
  /** Spans read, the run's and others' found by the same queries. */
  read: number;
  steps: SpanStep[];
  /** What the components do not emit, what never came, a backend error: one line each. */
  notes: string[];
}

/** One figure a component's histogram gave for the run (metric-deltas.ts). */
export interface MetricStep {
  id: string;
  label: string;
  component: Component;
  /** The histogram and its labels, as the component wrote them. */
  metric: string;
  /** How much the count moved between the two readings. */
  count: number;
  /** How many of those this pod accounts for (its etcd write, its containers ...). */
  expected: number;
  /** How much the sum moved, ms. */
  sumMs: number;
  /** The count moved by exactly this pod's operations: the sum is its time. */
  exact: boolean;
  /** When exact: the time of this pod's operations. */
  durationMs?: number;
  /** When not: how many other operations moved the same histogram. */
  sharedWith?: number;
  /** The two readings: 'before', 'after-post', 'after'. */
  from: string;
  to: string;
}

/** The components' metrics around the run. */
export interface MetricsSection {
  steps: MetricStep[];
  /** What could not be read, and how to read the figures: one line each. */
  notes: string[];
}
