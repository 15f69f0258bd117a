/**
 * Every command's options: the typed values each command receives, and the
 * table that declares each one's flag, help, default and parser
 * (options.ts). Cross-flag rules (-f with IMAGE, --keep with --runs) are the
 * commands' own.
 */
import { statSync } from 'node:fs';
import type { Thresholds } from '../analysis/thresholds.js';
import type { Gate } from '../analysis/gates.js';
import { UsageError } from '../errors.js';
import type { ReportFormat } from '../report/formats.js';
import type { OptionSpec, OptionTable } from './options.js';
import {
  parseDuration,
  parseEnv,
  parseNodeSelector,
  parsePort,
  parsePullPolicy,
  parseReachFrom,
  parseReadiness,
  validateNamespace,
  validateNodeName,
  validatePodName,
  type PullPolicy,
  type Readiness,
  type ReachVantage,
} from './parse/flags.js';
import { parseImageReference } from './parse/image-reference.js';
import { parseDiffFormat, parseOutputFormat, parseReportFormat, type DiffFormat, type OutputFormat } from './parse/formats.js';
import { parseDoctorFormat, type DoctorFormat } from './parse/formats.js';
import { parseResourceList } from './parse/quantity.js';
import { parseGates, parseThresholdRules } from './parse/rules.js';

export const MAX_RUNS = 1000;
export const MAX_LOG_LINES = 10_000;
/** Far beyond any pod start; also keeps the timer within setTimeout's range. */
const MAX_WAIT_MS = 24 * 3_600_000;
/** An observation window is for what happens soon after the start, not for monitoring. */
const MAX_OBSERVE_MS = 3_600_000;

export function wholeNumber(flag: string, what: string, max: number): (text: string) => number {
  return (text) => {
    const trimmed = text.trim();
    if (!/^[0-9]+$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > max) throw new UsageError(`${flag} ${text}: ${what}`);
    return Number(trimmed);
  };
}

function durationAtMost(flag: string, maxMs: number, tooLong: string): (text: string) => number {
  return (text) => {
    const ms = parseDuration(text, flag);
    if (ms > maxMs) throw new UsageError(`${flag} ${text}: ${tooLong}`);
    return ms;
  };
}

/** An output file's path; missing is fine (it is created, with its directories, at the end of the run). */
function outputPath(flag: string): (text: string) => string {
  return (file) => {
    if (file.trim() === '') throw new UsageError(`${flag} is empty: give a file path`);
    let directory = false;
    try {
      directory = statSync(file).isDirectory();
    } catch {
      // absent: it will be created
    }
    if (directory) throw new UsageError(`${flag} ${file} is a directory: give a file path`);
    return file;
  };
}

export const text = (value: string): string => value;

/** --expose's in-cluster vantage point: hack/images/reach, tagged with the version of its output. */
export const DEFAULT_REACH_IMAGE = 'podtrace/reach:1';

/** --spans URL: a Jaeger query API, http(s)://host[:port][/path]. */
export function parseSpansUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--spans ${value}: not a URL; give the Jaeger query API, e.g. --spans http://127.0.0.1:16686`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--spans ${value}: use an http:// or https:// URL (the Jaeger query API, e.g. http://127.0.0.1:16686)`);
  if (url.search || url.hash) throw new UsageError(`--spans ${value}: give the query API's base URL, without ? or #`);
  return value.replace(/\/+$/, '');
}

/** PODTRACE_SPANS stands for --spans when the flag is absent (checked like it). */
export function withSpansFromEnv<T extends { spans?: string }>(options: T, env: Readonly<Record<string, string | undefined>>): T {
  const value = env['PODTRACE_SPANS'];
  if (options.spans !== undefined || value === undefined || value === '') return options;
  return { ...options, spans: parseSpansUrl(value) };
}

/** An OTLP/HTTP endpoint: a base URL gets the traces path (`/v1/traces`) as OTLP exporters add it. */
export function parseOtlpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--export-otlp ${value}: not a URL; give an OTLP/HTTP endpoint, e.g. --export-otlp http://127.0.0.1:4318`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--export-otlp ${value}: use an http:// or https:// URL (OTLP over HTTP, e.g. http://127.0.0.1:4318)`);
  if (url.search || url.hash) throw new UsageError(`--export-otlp ${value}: give the endpoint without ? or #`);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/traces';
  return url.toString();
}

const SPANS: OptionSpec<string> = {
  kind: 'value',
  flags: '--spans <url>',
  description: "after the run, read the components' own spans of it from this Jaeger query API (e.g. http://127.0.0.1:16686; or PODTRACE_SPANS)",
  parse: parseSpansUrl,
};

export interface KubeOptions {
  namespace?: string;
  context?: string;
  kubeconfig?: string;
}

export const KUBE: OptionTable<KubeOptions> = {
  namespace: { kind: 'value', flags: '-n, --namespace <namespace>', description: "namespace for the pod (default: the context's namespace, else default)", parse: validateNamespace },
  context: {
    kind: 'value',
    flags: '--context <context>',
    description: 'kubeconfig context to use (default: current-context)',
    parse: (value) => {
      if (value.trim() === '') throw new UsageError('--context is empty');
      return value;
    },
  },
  kubeconfig: { kind: 'value', flags: '--kubeconfig <file>', description: 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)', parse: text },
};

const OUTPUT: { output: OptionSpec<OutputFormat>; out: OptionSpec<string> } = {
  output: { kind: 'value', flags: '-o, --output <format>', description: 'how to print the trace', default: 'table', choices: ['table', 'json', 'yaml'], parse: parseOutputFormat },
  out: { kind: 'value', flags: '--out <file>', description: 'where to save the trace JSON', parse: outputPath('--out') },
};

export const DEBUG: OptionSpec<boolean> = { kind: 'switch', flags: '--debug', description: 'print stack traces for unexpected errors (or PODTRACE_DEBUG=1)' };

export interface CreateOptions extends KubeOptions {
  name?: string;
  file?: string;
  pullPolicy?: PullPolicy;
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  port?: number;
  readiness?: Readiness;
  env: Array<{ name: string; value: string }>;
  command: boolean;
  nodeSelector: Record<string, string>;
  node?: string;
  perNode: boolean;
  timeoutMs: number;
  keep: boolean;
  expose?: number;
  reachFrom?: ReachVantage[];
  reachImage?: string;
  observeMs?: number;
  logLines?: number;
  output: OutputFormat;
  out?: string;
  record?: string;
  quiet: boolean;
  runs?: number;
  intervalMs?: number;
  gates: Gate[];
  spans?: string;
  exportOtlp?: string;
  metrics: boolean;
  debug: boolean;
}

export const CREATE_OPTIONS: OptionTable<CreateOptions> = {
  name: { kind: 'value', flags: '--name <name>', description: 'pod name (default: podtrace-<image>-<random>)', parse: (value) => validatePodName(value) },
  ...KUBE,
  file: { kind: 'value', flags: '-f, --filename <file>', description: 'create the Pod in this manifest instead of one built from IMAGE and flags', parse: text },
  pullPolicy: { kind: 'value', flags: '--pull-policy <policy>', description: 'imagePullPolicy', choices: ['Always', 'IfNotPresent', 'Never'], parse: parsePullPolicy },
  requests: { kind: 'value', flags: '--requests <list>', description: 'resource requests, e.g. cpu=100m,memory=64Mi', parse: (value) => parseResourceList(value, '--requests') },
  limits: { kind: 'value', flags: '--limits <list>', description: 'resource limits, e.g. cpu=500m,memory=128Mi', parse: (value) => parseResourceList(value, '--limits') },
  port: { kind: 'value', flags: '--port <port>', description: 'container port to declare', parse: (value) => parsePort(value, '--port') },
  readiness: { kind: 'value', flags: '--readiness <probe>', description: 'readiness probe: http:PORT/PATH or tcp:PORT', parse: parseReadiness },
  env: { kind: 'list', flags: '--env <NAME=VALUE>', description: 'environment variable (repeatable)', parse: parseEnv },
  command: { kind: 'switch', flags: '--command', description: 'the words after -- replace the entrypoint (without it they are its args)' },
  nodeSelector: { kind: 'list', flags: '--node-selector <key=value>', description: 'node selector label (repeatable)', parse: parseNodeSelector },
  node: {
    kind: 'value',
    flags: '--node <name>',
    description: "start the pod on this node: a required affinity to the node's name, so the scheduler still places it and is timed",
    parse: (value) => validateNodeName(value),
  },
  perNode: {
    kind: 'switch',
    flags: '--per-node',
    description: 'with --runs N: N runs on each schedulable node (taking turns), saved as one run set that report and the summary compare node by node',
  },
  timeoutMs: { kind: 'value', flags: '--timeout <duration>', description: 'give up waiting for Ready after this long', default: '5m', parse: durationAtMost('--timeout', MAX_WAIT_MS, 'at most 24h') },
  keep: { kind: 'switch', flags: '--keep', description: 'leave the pod running (default: delete it and trace the teardown)' },
  expose: {
    kind: 'value',
    flags: '--expose <port>',
    description: 'also create a Service for the pod on PORT and time its endpoint in the EndpointSlice (deleted with the pod)',
    parse: (value) => parsePort(value, '--expose'),
  },
  reachFrom: {
    kind: 'value',
    flags: '--reach-from <vantages>',
    description: `with --expose: where to try the Service's cluster IP and name from, client (podtrace's machine), pod (a probe pod in the cluster) or both (default: client,pod)`,
    parse: parseReachFrom,
  },
  reachImage: {
    kind: 'value',
    flags: '--reach-image <image>',
    description: `with --expose: the probe pod's image (default: ${DEFAULT_REACH_IMAGE}; built by hack/build-images.sh, load it into kind or minikube)`,
    parse: (value) => {
      parseImageReference(value);
      return value;
    },
  },
  observeMs: {
    kind: 'value',
    flags: '--observe <duration>',
    description: 'after Ready, keep watching this long (e.g. 30s): restarts and their reasons, probe failures, CPU and memory',
    parse: durationAtMost('--observe', MAX_OBSERVE_MS, 'at most 1h (podtrace traces a start; use monitoring for longer)'),
  },
  logLines: {
    kind: 'value',
    flags: '--logs <n>',
    description: "add the first N lines of each container's log to the trace",
    parse: wholeNumber('--logs', `a whole number of lines from 1 to ${MAX_LOG_LINES}`, MAX_LOG_LINES),
  },
  ...OUTPUT,
  record: { kind: 'value', flags: '--record <file>', description: 'also save every observation as an NDJSON recording (for replay)', parse: outputPath('--record') },
  quiet: { kind: 'switch', flags: '-q, --quiet', description: 'no live progress on stderr' },
  runs: {
    kind: 'value',
    flags: '--runs <n>',
    description: 'create the pod N times, one after another, and save them as one run set (default: 1)',
    parse: wholeNumber('--runs', `a whole number of runs from 1 to ${MAX_RUNS}`, MAX_RUNS),
  },
  intervalMs: { kind: 'value', flags: '--interval <duration>', description: 'with --runs: pause this long between runs, e.g. 5s (default: none)', parse: (value) => parseDuration(value, '--interval') },
  gates: {
    kind: 'list',
    flags: '--fail-on <gates>',
    description: "exit 30 when a gate fails, e.g. 'ready>5s,pull>2s' (with --runs: the median; METRIC.p90>.. for another statistic; repeatable)",
    parse: parseGates,
  },
  spans: SPANS,
  exportOtlp: {
    kind: 'value',
    flags: '--export-otlp <url>',
    description: "push each run's trace to this OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318): podtrace's steps and the components' spans as one trace",
    parse: parseOtlpUrl,
  },
  metrics: {
    kind: 'switch',
    flags: '--no-metrics',
    description: "do not read the API server's and the kubelet's /metrics around the run (the components' own times of admission, the etcd write, the CRI calls)",
  },
  debug: DEBUG,
};

export interface ReplayOptions {
  output: OutputFormat;
  out?: string;
  debug: boolean;
}

export const REPLAY_OPTIONS: OptionTable<ReplayOptions> = { ...OUTPUT, debug: DEBUG };

/** A label selector as the API server accepts it: key=value, key!=value, key, !key, key in (a,b). */
const SELECTOR = /^[A-Za-z0-9_./!()=, -]+$/;

export interface WatchOptions extends KubeOptions {
  selector?: string;
  forMs: number;
  count?: number;
  output: OutputFormat;
  out?: string;
  quiet: boolean;
  spans?: string;
  debug: boolean;
}

export const WATCH_OPTIONS: OptionTable<WatchOptions> = {
  selector: {
    kind: 'value',
    flags: '-l, --selector <selector>',
    description: 'label selector of the pods to trace, e.g. app=web',
    parse: (value) => {
      if (value.trim() === '' || !SELECTOR.test(value)) throw new UsageError(`-l ${JSON.stringify(value)}: not a label selector; write e.g. -l app=web or -l 'app in (web,api)'`);
      return value;
    },
  },
  ...KUBE,
  forMs: { kind: 'value', flags: '--for <duration>', description: 'stop watching after this long', default: '5m', parse: durationAtMost('--for', MAX_WAIT_MS, 'at most 24h') },
  count: { kind: 'value', flags: '--count <n>', description: 'stop once N pods are Ready, failed or gone', parse: wholeNumber('--count', 'a whole number of pods, 1 or more', Number.MAX_SAFE_INTEGER) },
  ...OUTPUT,
  quiet: { kind: 'switch', flags: '-q, --quiet', description: 'no progress lines on stderr' },
  spans: { ...SPANS, description: "read each done pod's component spans (its creation, the kubelet's syncs) from this Jaeger query API (or PODTRACE_SPANS)" },
  debug: DEBUG,
};

export interface InspectOptions extends KubeOptions {
  output: OutputFormat;
  out?: string;
  record?: string;
  spans?: string;
  debug: boolean;
}

export const INSPECT_OPTIONS: OptionTable<InspectOptions> = {
  ...KUBE,
  ...OUTPUT,
  record: { kind: 'value', flags: '--record <file>', description: 'also save what was read as an NDJSON recording (for replay)', parse: outputPath('--record') },
  spans: { ...SPANS, description: "also read the components' spans of the pod (its creation, the kubelet's syncs) from this Jaeger query API (or PODTRACE_SPANS)" },
  debug: DEBUG,
};

export interface ReportOptions {
  output?: ReportFormat;
  out?: string;
  gates: Gate[];
  thresholds: Thresholds;
  debug: boolean;
}

export const REPORT_OPTIONS: OptionTable<ReportOptions> = {
  output: {
    kind: 'value',
    flags: '-o, --output <format>',
    description: "report format (default: from --out's extension, else table)",
    choices: ['table', 'json', 'csv', 'markdown', 'html', 'chrome-trace', 'otlp'],
    parse: parseReportFormat,
  },
  out: { kind: 'value', flags: '--out <file>', description: 'write the report to this file (atomically) instead of stdout', parse: outputPath('--out') },
  gates: { kind: 'list', flags: '--fail-on <gates>', description: "exit 30 when a gate fails, e.g. 'ready>5s,pull.p90>2s' (repeatable)", parse: parseGates },
  thresholds: { kind: 'list', flags: '--threshold <rule>', description: 'for the diff of two sets: 10%, 200ms or METRIC=LIMIT (repeatable; default 10%)', parse: parseThresholdRules },
  debug: DEBUG,
};

export interface DiffOptions {
  thresholds: Thresholds;
  failOnRegression: boolean;
  output: DiffFormat;
  debug: boolean;
}

export const DIFF_OPTIONS: OptionTable<DiffOptions> = {
  thresholds: {
    kind: 'list',
    flags: '--threshold <rule>',
    description: 'what counts as a regression: 10%, 200ms (both: beyond both), METRIC=LIMIT such as pull=1s (repeatable; default: 10% and 50ms)',
    parse: parseThresholdRules,
  },
  failOnRegression: { kind: 'switch', flags: '--fail-on-regression', description: 'exit 31 when any metric regressed (one line on stderr says which)' },
  output: { kind: 'value', flags: '-o, --output <format>', description: 'how to print the diff', default: 'table', choices: ['table', 'json', 'markdown'], parse: parseDiffFormat },
  debug: DEBUG,
};

export interface DoctorOptions extends KubeOptions {
  output: DoctorFormat;
  spans?: string;
  debug: boolean;
}

export const DOCTOR_OPTIONS: OptionTable<DoctorOptions> = {
  ...KUBE,
  output: { kind: 'value', flags: '-o, --output <format>', description: 'how to print the findings', default: 'table', choices: ['table', 'json'], parse: parseDoctorFormat },
  spans: {
    kind: 'value',
    flags: '--spans <url>',
    description: "check that the components' spans reach this Jaeger query API (e.g. http://127.0.0.1:16686; or PODTRACE_SPANS)",
    parse: parseSpansUrl,
  },
  debug: DEBUG,
};
