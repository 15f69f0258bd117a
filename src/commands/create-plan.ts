import { statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import {
  parseDuration,
  parseEnv,
  parseNodeSelector,
  parseOutputFormat,
  parsePort,
  parsePullPolicy,
  parseReadiness,
  validateNamespace,
  validatePodName,
  type OutputFormat,
} from './parse/flags.js';
import { imageBasename, parseImageReference } from './parse/image-reference.js';
import { checkRequestsWithinLimits, parseResourceList } from './parse/quantity.js';
import { loadManifestFile, manifestFromFlags, primaryImage, type PodManifest } from './pod-manifest.js';
import type { Gate } from '../analysis/gates.js';
import { parseGates } from './parse/rules.js';
import { generatePodName, generateRunId, nameFromGenerateName, type RandomIndex } from './pod-name.js';

/** `podtrace create` flags as commander hands them over (strings, unvalidated). */
export interface CreateFlags {
  image?: string;
  /** Words after `--`. */
  trailingArgs: string[];
  command: boolean;
  name?: string;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  file?: string;
  pullPolicy?: string;
  requests?: string;
  limits?: string;
  port?: string;
  readiness?: string;
  env: string[];
  nodeSelector: string[];
  timeout: string;
  keep: boolean;
  output: string;
  out?: string;
  record?: string;
  quiet: boolean;
  /** `--runs N`: how many pods to create, one after another. */
  runs?: string;
  /** `--fail-on` values, e.g. 'ready>5s,pull>2s'. */
  failOn?: string[];
  /** `--interval 5s`: pause between runs (let the node settle, or a harness act). */
  interval?: string;
  /** `--expose PORT`: also create a Service for the pod on this port. */
  expose?: string;
  /** `--observe 30s`: keep watching this long after Ready. */
  observe?: string;
  /** `--logs N`: the first N lines of each container's log. */
  logs?: string;
}

/** Everything `create` needs, validated; made before any kubeconfig is read or request is sent. */
export interface CreatePlan {
  manifest: PodManifest;
  podName: string;
  /** -n, else the manifest's metadata.namespace; undefined means "the context's namespace". */
  namespace?: string;
  runId: string;
  image?: string;
  keep: boolean;
  timeoutMs: number;
  output: OutputFormat;
  outPath?: string;
  recordPath?: string;
  quiet: boolean;
  kube: { kubeconfig?: string; context?: string };
  /** How many runs (1 without --runs). */
  runs: number;
  /** Which run this plan is for, from 0; a fixed pod name gets `-<run + 1>` when runs > 1. */
  runIndex: number;
  gates: Gate[];
  /** Pause between the end of one run and the start of the next, ms. */
  intervalMs: number;
  /** `--expose PORT`: a Service named after the pod, on this port, deleted with it. */
  expose?: number;
  /** `--observe`: the window after Ready, ms (0: none). */
  observeMs: number;
  /** `--logs N`. */
  logLines?: number;
}

/** An observation window is for what happens soon after the start, not for monitoring. */
const MAX_OBSERVE_MS = 3_600_000;
export const MAX_LOG_LINES = 10_000;

/** More runs than this is a benchmark farm, not a trace: use several invocations. */
export const MAX_RUNS = 1000;

/** Far beyond any pod start; also keeps the timer within setTimeout's range. */
const MAX_TIMEOUT_MS = 24 * 3_600_000;

const CONTAINER_FLAGS: Array<[keyof CreateFlags, string]> = [
  ['pullPolicy', '--pull-policy'],
  ['requests', '--requests'],
  ['limits', '--limits'],
  ['port', '--port'],
  ['readiness', '--readiness'],
];

export function parseRuns(text: string | undefined): number {
  if (text === undefined) return 1;
  const trimmed = text.trim();
  if (!/^[0-9]+$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > MAX_RUNS) {
    throw new UsageError(`--runs ${text}: a whole number of runs from 1 to ${MAX_RUNS}`);
  }
  return Number(trimmed);
}

/** `--record run.ndjson` with --runs 3 keeps run-1.ndjson, run-2.ndjson, run-3.ndjson. */
export function perRunPath(file: string, runIndex: number, runs: number): string {
  if (runs <= 1) return file;
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}-${runIndex + 1}${ext}`;
}

export function planCreate(flags: CreateFlags, random: { index?: RandomIndex; now: number }, runIndex = 0): CreatePlan {
  const output = parseOutputFormat(flags.output);
  const runs = parseRuns(flags.runs);
  if (runs > 1 && flags.keep) {
    throw new UsageError(`--keep cannot be combined with --runs ${runs}: each run deletes its pod before the next starts`);
  }
  const intervalMs = flags.interval !== undefined ? parseDuration(flags.interval, '--interval') : 0;
  if (flags.interval !== undefined && runs < 2) throw new UsageError('--interval goes with --runs N (N >= 2): it is the pause between runs');
  const gates = parseGates(flags.failOn ?? []);
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  if (timeoutMs > MAX_TIMEOUT_MS) throw new UsageError(`--timeout ${flags.timeout}: at most 24h`);
  if (flags.namespace !== undefined) validateNamespace(flags.namespace);
  if (flags.name !== undefined) validatePodName(flags.name);
  if (flags.context !== undefined && flags.context.trim() === '') throw new UsageError('--context is empty');
  checkOutputPath(flags.out, '--out');
  checkOutputPath(flags.record, '--record');

  let manifest: PodManifest;
  if (flags.file !== undefined) {
    const conflicts = [
      ...(flags.image !== undefined ? ['IMAGE'] : []),
      ...(flags.command ? ['--command'] : []),
      ...(flags.trailingArgs.length > 0 ? ['-- ARGS'] : []),
      ...CONTAINER_FLAGS.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag),
      ...(flags.env.length > 0 ? ['--env'] : []),
      ...(flags.nodeSelector.length > 0 ? ['--node-selector'] : []),
    ];
    if (conflicts.length > 0) {
      throw new UsageError(`-f cannot be combined with ${conflicts.join(', ')}: put those in the manifest, or drop -f`);
    }
    manifest = loadManifestFile(flags.file);
  } else {
    if (flags.image === undefined) {
      throw new UsageError('podtrace create needs an IMAGE (e.g. podtrace create nginx) or -f pod.yaml');
    }
    const image = parseImageReference(flags.image);
    if (flags.command && flags.trailingArgs.length === 0) {
      throw new UsageError('--command needs the command after "--", e.g. podtrace create busybox --command -- sleep 3600');
    }
    const requests = flags.requests !== undefined ? parseResourceList(flags.requests, '--requests') : undefined;
    const limits = flags.limits !== undefined ? parseResourceList(flags.limits, '--limits') : undefined;
    if (requests && limits) checkRequestsWithinLimits(requests, limits);
    manifest = manifestFromFlags({
      image,
      ...(flags.command ? { command: flags.trailingArgs } : flags.trailingArgs.length > 0 ? { args: flags.trailingArgs } : {}),
      ...(flags.pullPolicy !== undefined ? { pullPolicy: parsePullPolicy(flags.pullPolicy) } : {}),
      ...(requests ? { requests } : {}),
      ...(limits ? { limits } : {}),
      ...(flags.port !== undefined ? { port: parsePort(flags.port, '--port') } : {}),
      ...(flags.readiness !== undefined ? { readiness: parseReadiness(flags.readiness) } : {}),
      env: parseEnv(flags.env),
      nodeSelector: parseNodeSelector(flags.nodeSelector),
    });
  }

  const manifestNamespace = manifest.metadata['namespace'];
  if (manifestNamespace !== undefined) {
    if (typeof manifestNamespace !== 'string') throw new UsageError(`-f ${flags.file}: metadata.namespace must be a string`);
    if (flags.namespace !== undefined && flags.namespace !== manifestNamespace) {
      throw new UsageError(
        `-n ${flags.namespace} does not match metadata.namespace "${manifestNamespace}" in ${flags.file}: drop one of them`,
      );
    }
    validateNamespace(manifestNamespace);
  }

  const fixedName = flags.name !== undefined || (typeof manifest.metadata['name'] === 'string' && manifest.metadata['name'] !== '');
  const baseName = flags.name ?? nameForManifest(manifest, flags.file, random.index);
  // Runs follow each other, but a pod being deleted still holds its name: a fixed name gets a run number.
  const podName = runs > 1 && fixedName ? validatePodName(`${baseName}-${runIndex + 1}`) : baseName;
  const image = primaryImage(manifest);
  const namespace = flags.namespace ?? (manifestNamespace as string | undefined);
  const expose = flags.expose !== undefined ? parsePort(flags.expose, '--expose') : undefined;
  const observeMs = flags.observe !== undefined ? parseDuration(flags.observe, '--observe') : 0;
  if (observeMs > MAX_OBSERVE_MS) throw new UsageError(`--observe ${flags.observe}: at most 1h (podtrace traces a start; use monitoring for longer)`);
  let logLines: number | undefined;
  if (flags.logs !== undefined) {
    if (!/^[0-9]+$/.test(flags.logs.trim()) || Number(flags.logs) < 1 || Number(flags.logs) > MAX_LOG_LINES) {
      throw new UsageError(`--logs ${flags.logs}: a whole number of lines from 1 to ${MAX_LOG_LINES}`);
    }
    logLines = Number(flags.logs);
  }
  if (expose !== undefined && !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(podName)) {
    throw new UsageError(
      `--expose: the Service takes the pod's name, and "${podName}" is not a Service name (lowercase letters, digits and "-", starting with a letter, at most 63 characters): choose one with --name`,
    );
  }
  return {
    manifest,
    podName,
    ...(namespace !== undefined ? { namespace } : {}),
    runId: generateRunId(random.now, random.index),
    ...(image !== undefined ? { image } : {}),
    keep: flags.keep,
    timeoutMs,
    output,
    ...(flags.out !== undefined ? { outPath: flags.out } : {}),
    ...(flags.record !== undefined ? { recordPath: perRunPath(flags.record, runIndex, runs) } : {}),
    quiet: flags.quiet,
    kube: {
      ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
      ...(flags.context !== undefined ? { context: flags.context } : {}),
    },
    runs,
    intervalMs,
    runIndex,
    gates,
    ...(expose !== undefined ? { expose } : {}),
    observeMs,
    ...(logLines !== undefined ? { logLines } : {}),
  };
}

/** The watches select on the name, so it must be known before the POST: resolve generateName here. */
function nameForManifest(manifest: PodManifest, file: string | undefined, random?: RandomIndex): string {
  const metadata = manifest.metadata;
  if (typeof metadata['name'] === 'string' && metadata['name'] !== '') return validatePodName(metadata['name'], `-f ${file}: metadata.name`);
  if (typeof metadata['generateName'] === 'string' && metadata['generateName'] !== '') {
    return validatePodName(nameFromGenerateName(metadata['generateName'], random), `-f ${file}: metadata.generateName`);
  }
  const image = primaryImage(manifest);
  const basename = image ? imageBasename(parseImageReference(image)) : 'pod';
  return generatePodName(basename, random);
}

function checkOutputPath(file: string | undefined, flag: string): void {
  if (file === undefined) return;
  if (file.trim() === '') throw new UsageError(`${flag} is empty: give a file path`);
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`${flag} ${file} is a directory: give a file path`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // Missing is fine: it will be created (with its directories) at the end of the run.
  }
}
