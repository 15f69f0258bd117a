/** `podtrace probe`'s flags: a create's pod flags, and how often and where it serves. */
import { UsageError } from '../errors.js';
import { CREATE_OPTIONS, DEBUG, KUBE, text, wholeNumber, type KubeOptions } from './option-tables.js';
import type { OptionTable } from './options.js';
import { parseDuration, validatePodName, type PullPolicy, type Readiness } from './parse/flags.js';

export interface ProbeOptions extends KubeOptions {
  name: string;
  file?: string;
  pullPolicy?: PullPolicy;
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  readiness?: Readiness;
  env: Array<{ name: string; value: string }>;
  nodeSelector: Record<string, string>;
  perNode: boolean;
  timeoutMs: number;
  everyMs: number;
  listen: string;
  history: number;
  exportOtlp?: string;
  debug: boolean;
}

/** The shortest --every: a round is a whole pod start and teardown. */
const MIN_EVERY_MS = 1000;

export const PROBE_OPTIONS: OptionTable<ProbeOptions> = {
  name: {
    kind: 'value',
    flags: '--name <name>',
    description: "the probe's name, on its pods as the podtrace.dev/probe label (a probe of that name deletes the pods an earlier one left)",
    default: 'podtrace-probe',
    parse: (value) => validatePodName(value, '--name'),
  },
  ...KUBE,
  file: CREATE_OPTIONS.file,
  pullPolicy: CREATE_OPTIONS.pullPolicy,
  requests: CREATE_OPTIONS.requests,
  limits: CREATE_OPTIONS.limits,
  readiness: CREATE_OPTIONS.readiness,
  env: CREATE_OPTIONS.env,
  nodeSelector: CREATE_OPTIONS.nodeSelector,
  perNode: { kind: 'switch', flags: '--per-node', description: 'each round, one pod on every schedulable node, one after another (a slow node stands out)' },
  timeoutMs: { ...CREATE_OPTIONS.timeoutMs, description: 'a round gives up waiting for Ready after this long' },
  everyMs: {
    kind: 'value',
    flags: '--every <duration>',
    description: 'start a round this often (±10 % jitter); a round still running delays the next, and the delay is counted',
    default: '1m',
    parse: (value) => {
      const ms = parseDuration(value, '--every');
      if (ms < MIN_EVERY_MS) throw new UsageError(`--every ${value}: at least 1s (a round is a whole pod start and teardown)`);
      return ms;
    },
  },
  listen: { kind: 'value', flags: '--listen <address>', description: 'where to serve /metrics (OpenMetrics), /healthz and /traces/latest', default: ':9464', parse: text },
  history: { kind: 'value', flags: '--history <n>', description: 'how many of the latest traces /traces/latest keeps', default: '10', parse: wholeNumber('--history', 'a whole number of traces from 1 to 1000', 1000) },
  exportOtlp: { ...CREATE_OPTIONS.exportOtlp, description: "push each round's trace to this OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318): one trace id per round" },
  debug: DEBUG,
};
