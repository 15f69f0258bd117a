/**
 * One `podtrace create` run as the command sees it: a cluster API opened for
 * the plan, the collector run on it, the trace rebuilt from what it recorded,
 * and the run's exit code. Shared by a single run and by --runs.
 */
import path from 'node:path';
import { describeViolations, describeWithinError, failingGates, type GateViolation } from '../analysis/gates.js';
import { collectCreate } from '../collect/create/session.js';
import { SPANS_WAIT_MS } from '../collect/spans.js';
import type { CreateRequest } from '../collect/create/state.js';
import { parseRegistryMirrors } from '../collect/create/image-lookup.js';
import { exitCodeFor, type StopController, type StopSignal } from '../collect/stop.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Observation, RecordingHeader } from '../trace/observation.js';
import { reconstruct } from '../trace/reconstruct.js';
import { serializeRecording } from '../trace/recording.js';
import type { Trace } from '../trace/types.js';
import { writeFileAtomic } from './atomic-write.js';
import { openKubeClient, type CommandContext } from './context.js';
import type { CreatePlan } from './create-plan.js';
import { displayPath } from './output.js';
import { finalizeManifest, MANAGED_BY_LABEL, RUN_LABEL } from './pod-manifest.js';
import { createProgress } from './progress.js';
import { TOOL_VERSION } from './version.js';


/** What one run leaves: its trace, what it was built from, and its exit code. */
export interface RunResult {
  trace: Trace;
  header: RecordingHeader;
  observations: readonly Observation[];
  exitCode: ExitCode;
  /** Set when the run was stopped by a signal. */
  signal?: StopSignal;
}

/** One pod, from kubeconfig to teardown, on its own client. */
export async function runOnce(plan: CreatePlan, ctx: CommandContext, startedAt: number, stop: StopController): Promise<RunResult> {
  const registryMirrors = parseRegistryMirrors(ctx.env['PODTRACE_REGISTRY_MIRRORS']);
  const api = await openKubeClient({ ...plan.kube, ...(plan.namespace !== undefined ? { namespace: plan.namespace } : {}) }, ctx);
  try {
    const interactive = ctx.stderr.isTTY === true && ctx.env['TERM'] !== 'dumb' && plan.output === 'table' && !plan.quiet;
    const progress = await createProgress(ctx.stderr, interactive);
    const run = await collectCreate(api, { ...createRequest(plan, api.target.namespace), registryMirrors }, {
      clock: ctx.clock,
      progress,
      stderr: ctx.stderr,
      stop,
      toolVersion: TOOL_VERSION,
      startedAt,
    });
    const trace = reconstruct(run.header, run.observations);
    // The trace core classifies from observations; a create denied before the POST has no pod to classify.
    const exitCode: ExitCode = run.signal ? exitCodeFor(run.signal) : run.forbidden ? EXIT.forbidden : (trace.outcome.exitCode ?? EXIT.internal);
    return { trace, header: run.header, observations: run.observations, exitCode, ...(run.signal ? { signal: run.signal } : {}) };
  } finally {
    await api.close().catch(() => {});
  }
}

/** The plan as the collector takes it: the manifest named, namespaced and labelled. */
function createRequest(plan: CreatePlan, namespace: string): CreateRequest {
  return {
    manifest: finalizeManifest(plan.manifest, { name: plan.podName, namespace, runId: plan.runId }),
    podName: plan.podName,
    ...(plan.image !== undefined ? { image: plan.image } : {}),
    keep: plan.keep,
    timeoutMs: plan.timeoutMs,
    ...(plan.expose !== undefined ? { expose: plan.expose } : {}),
    ...(plan.reach !== undefined ? { reach: plan.reach } : {}),
    observeMs: plan.observeMs,
    ...(plan.logLines !== undefined ? { logLines: plan.logLines } : {}),
    runLabel: { key: RUN_LABEL, value: plan.runId },
    managedBy: { key: MANAGED_BY_LABEL, value: 'podtrace' },
    ...(plan.spans !== undefined ? { spans: { backend: plan.spans, waitMs: SPANS_WAIT_MS } } : {}),
    metrics: plan.metrics,
    ...(plan.node !== undefined ? { node: plan.node } : {}),
  };
}

export async function saveRecording(result: RunResult, plan: CreatePlan, ctx: CommandContext): Promise<void> {
  if (plan.recordPath === undefined) return;
  const cwd = ctx.cwd ?? process.cwd();
  const recordTo = path.resolve(cwd, plan.recordPath);
  await writeFileAtomic(recordTo, serializeRecording(result.header, result.observations));
  ctx.stderr.write(`recording saved to ${displayPath(recordTo, cwd)}\n`);
}

/** A crossed --fail-on threshold is one stderr line; it sets the exit code only when the runs themselves succeeded. */
export function withGates(exitCode: ExitCode, violations: readonly GateViolation[], ctx: CommandContext): number {
  const warning = describeWithinError(violations);
  if (warning) ctx.stderr.write(`podtrace: ${warning}\n`);
  const failing = failingGates(violations);
  if (failing.length === 0) return exitCode;
  ctx.stderr.write(`podtrace: ${describeViolations(failing)}\n`);
  return exitCode === EXIT.ok ? EXIT.thresholdExceeded : exitCode;
}
