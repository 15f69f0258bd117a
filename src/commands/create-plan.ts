import path from 'node:path';
import type { Gate } from '../analysis/gates.js';
import { UsageError } from '../errors.js';
import { DEFAULT_REACH_IMAGE, type CreateOptions } from './option-tables.js';
import { validateNamespace, validatePodName, type ReachVantage } from './parse/flags.js';
import type { OutputFormat } from './parse/formats.js';
import { imageBasename, parseImageReference } from './parse/image-reference.js';
import { checkRequestsWithinLimits } from './parse/quantity.js';
import { generatePodName, generateRunId, nameFromGenerateName, type RandomIndex } from './pod-name.js';
import { loadManifestFile, manifestFromFlags, pinToNode, primaryImage, type PodManifest } from './pod-manifest.js';

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
  /** With --expose: where the Service is tried from (--reach-from), and the probe pod's image. */
  reach?: ReachPlan;
  /** `--observe`: the window after Ready, ms (0: none). */
  observeMs: number;
  /** `--logs N`. */
  logLines?: number;
  /** `--spans URL` (or PODTRACE_SPANS). */
  spans?: string;
  /** `--export-otlp URL`: where each run's trace is pushed. */
  exportOtlp?: string;
  /** Read the components' /metrics around the run (unless --no-metrics). */
  metrics: boolean;
  /** `--node NAME`: the pod is pinned to this node (the preflight checks that it exists). */
  node?: string;
  /** `--per-node`: the runs are made on every schedulable node in turn. */
  perNode: boolean;
}

export interface ReachPlan {
  client: boolean;
  /** The in-cluster vantage: the probe pod's image; absent when not asked for. */
  podImage?: string;
}

/** The flags that shape the one container podtrace builds: meaningless with -f. */
const CONTAINER_FLAGS: Array<[keyof CreateOptions, string]> = [
  ['pullPolicy', '--pull-policy'],
  ['requests', '--requests'],
  ['limits', '--limits'],
  ['port', '--port'],
  ['readiness', '--readiness'],
];

/** `--record run.ndjson` with --runs 3 keeps run-1.ndjson, run-2.ndjson, run-3.ndjson. */
export function perRunPath(file: string, runIndex: number, runs: number): string {
  if (runs <= 1) return file;
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}-${runIndex + 1}${ext}`;
}

/** IMAGE, the words after --, and the options: everything the runs need, checked before kubeconfig is read. */
export interface CreateInput {
  image?: string;
  /** Words after `--`. */
  args: string[];
  options: CreateOptions;
}

/** `node`: --per-node's node for this run (the options' --per-node still holds for the series). */
export function planCreate(input: CreateInput, random: { index?: RandomIndex; now: number }, runIndex = 0, node?: string): CreatePlan {
  const options = node === undefined ? input.options : { ...input.options, node, perNode: false };
  const perNode = input.options.perNode;
  const runs = options.runs ?? 1;
  if (runs > 1 && options.keep) {
    throw new UsageError(`--keep cannot be combined with --runs ${runs}: each run deletes its pod before the next starts`);
  }
  if (options.intervalMs !== undefined && runs < 2 && !options.perNode) {
    throw new UsageError('--interval goes with --runs N (N >= 2): it is the pause between runs');
  }
  if (options.perNode && options.node !== undefined) throw new UsageError(`--per-node runs on every node: drop --node ${options.node}, or --per-node`);
  if (options.perNode && options.keep) throw new UsageError('--keep cannot be combined with --per-node: each run deletes its pod before the next starts');

  let manifest: PodManifest;
  if (options.file !== undefined) {
    const conflicts = [
      ...(input.image !== undefined ? ['IMAGE'] : []),
      ...(options.command ? ['--command'] : []),
      ...(input.args.length > 0 ? ['-- ARGS'] : []),
      ...CONTAINER_FLAGS.filter(([key]) => options[key] !== undefined).map(([, flag]) => flag),
      ...(options.env.length > 0 ? ['--env'] : []),
      ...(Object.keys(options.nodeSelector).length > 0 ? ['--node-selector'] : []),
    ];
    if (conflicts.length > 0) {
      throw new UsageError(`-f cannot be combined with ${conflicts.join(', ')}: put those in the manifest, or drop -f`);
    }
    manifest = loadManifestFile(options.file);
  } else {
    if (input.image === undefined) {
      throw new UsageError('podtrace create needs an IMAGE (e.g. podtrace create nginx) or -f pod.yaml');
    }
    const image = parseImageReference(input.image);
    if (options.command && input.args.length === 0) {
      throw new UsageError('--command needs the command after "--", e.g. podtrace create busybox --command -- sleep 3600');
    }
    if (options.requests && options.limits) checkRequestsWithinLimits(options.requests, options.limits);
    manifest = manifestFromFlags({
      image,
      ...(options.command ? { command: input.args } : input.args.length > 0 ? { args: input.args } : {}),
      ...(options.pullPolicy !== undefined ? { pullPolicy: options.pullPolicy } : {}),
      ...(options.requests ? { requests: options.requests } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.readiness !== undefined ? { readiness: options.readiness } : {}),
      env: options.env,
      nodeSelector: options.nodeSelector,
    });
  }

  if (options.node !== undefined) manifest = pinToNode(manifest, options.node, options.file);

  const manifestNamespace = manifest.metadata['namespace'];
  if (manifestNamespace !== undefined) {
    if (typeof manifestNamespace !== 'string') throw new UsageError(`-f ${options.file}: metadata.namespace must be a string`);
    if (options.namespace !== undefined && options.namespace !== manifestNamespace) {
      throw new UsageError(`-n ${options.namespace} does not match metadata.namespace "${manifestNamespace}" in ${options.file}: drop one of them`);
    }
    validateNamespace(manifestNamespace);
  }

  const fixedName = options.name !== undefined || (typeof manifest.metadata['name'] === 'string' && manifest.metadata['name'] !== '');
  const baseName = options.name ?? nameForManifest(manifest, options.file, random.index);
  // Runs follow each other, but a pod being deleted still holds its name: a fixed name gets a run number.
  const podName = (runs > 1 || perNode) && fixedName ? validatePodName(`${baseName}-${runIndex + 1}`) : baseName;
  const image = primaryImage(manifest);
  const namespace = options.namespace ?? (manifestNamespace as string | undefined);
  if (options.expose === undefined && (options.reachFrom !== undefined || options.reachImage !== undefined)) {
    throw new UsageError(`${options.reachFrom !== undefined ? '--reach-from' : '--reach-image'} goes with --expose PORT: it is where the Service is tried from`);
  }
  if (options.reachImage !== undefined && options.reachFrom !== undefined && !options.reachFrom.includes('pod')) {
    throw new UsageError(`--reach-image is the probe pod's image: drop it, or add pod to --reach-from`);
  }
  if (options.expose !== undefined && !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(podName)) {
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
    keep: options.keep,
    timeoutMs: options.timeoutMs,
    output: options.output,
    ...(options.out !== undefined ? { outPath: options.out } : {}),
    ...(options.record !== undefined ? { recordPath: perRunPath(options.record, runIndex, runs) } : {}),
    quiet: options.quiet,
    kube: {
      ...(options.kubeconfig !== undefined ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.context !== undefined ? { context: options.context } : {}),
    },
    runs,
    intervalMs: options.intervalMs ?? 0,
    runIndex,
    gates: options.gates,
    ...(options.expose !== undefined ? { expose: options.expose, reach: reachPlan(options.reachFrom, options.reachImage) } : {}),
    observeMs: options.observeMs ?? 0,
    ...(options.logLines !== undefined ? { logLines: options.logLines } : {}),
    ...(options.spans !== undefined ? { spans: options.spans } : {}),
    ...(options.exportOtlp !== undefined ? { exportOtlp: options.exportOtlp } : {}),
    metrics: options.metrics,
    ...(options.node !== undefined ? { node: options.node } : {}),
    perNode,
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

function reachPlan(from: readonly ReachVantage[] = ['client', 'pod'], image = DEFAULT_REACH_IMAGE): ReachPlan {
  return { client: from.includes('client'), ...(from.includes('pod') ? { podImage: image } : {}) };
}
