/**
 * `podtrace create --runs N`: N full runs one after another (each its own
 * pod, deleted before the next starts), saved as one run set. Ctrl-C ends
 * the run in progress as usual and saves the runs that finished (the
 * interrupted one only when it was the first: a run set is never empty).
 */
import path from 'node:path';
import { evaluateGates } from '../analysis/gates.js';
import { diff } from '../analysis/diff.js';
import { makeRunSet, splitByNode, type RunSet } from '../analysis/runset.js';
import { schedulableNodes } from '../collect/schedulable-nodes.js';
import { exitCodeFor, pause, type StopController } from '../collect/stop.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { renderDiffTable } from '../report/diff.js';
import { renderRunSetJson, renderRunSetSummary, renderRunSetYaml, runLine } from '../report/runset-summary.js';
import type { Trace } from '../trace/types.js';
import { writeFileAtomic } from './atomic-write.js';
import { openKubeClient, type CommandContext } from './context.js';
import { runOnce, saveRecording, withGates, type RunResult } from './create-run.js';
import { pushOtlp } from './otlp-push.js';
import { planCreate, type CreateInput, type CreatePlan } from './create-plan.js';
import { defaultRunSetPath, displayPath, useColor } from './output.js';
import { TOOL_VERSION } from './version.js';

export async function runRepeated(input: CreateInput, first: CreatePlan, ctx: CommandContext, firstStartedAt: number, stop: StopController): Promise<number> {
  const cwd = ctx.cwd ?? process.cwd();
  // --per-node: every schedulable node takes its turn, run after run; otherwise no node is named.
  const nodes = first.perNode ? await nodesForRuns(first, ctx) : [undefined];
  const schedule = Array.from({ length: first.runs * nodes.length }, (_, i) => nodes[i % nodes.length]);
  const groupBy = first.perNode ? 'node' : undefined;
  const traces: Trace[] = [];
  let exitCode: ExitCode = EXIT.ok;
  let saved = false;
  const save = async (): Promise<void> => {
    if (saved || traces.length === 0) return;
    saved = true;
    const set = makeRunSet(traces, runSetLabel(traces[0]!), TOOL_VERSION, groupBy);
    const savedTo = first.outPath !== undefined ? path.resolve(cwd, first.outPath) : defaultRunSetPath(cwd, first.podName, firstStartedAt);
    await writeFileAtomic(savedTo, renderRunSetJson(set));
    ctx.stderr.write(`run set of ${traces.length} run${traces.length === 1 ? '' : 's'} saved to ${displayPath(savedTo, cwd)}\n`);
  };
  for (let i = 0; i < schedule.length && stop.stoppedBy === undefined; i++) {
    if (i > 0 && first.intervalMs > 0) await pause(first.intervalMs, stop.signal);
    if (stop.stoppedBy !== undefined) break;
    const startedAt = i === 0 ? firstStartedAt : ctx.clock.now();
    let plan = first;
    let result: RunResult;
    try {
      // A new pod name and run id per run (the manifest file is read again: it was valid a moment ago).
      if (i > 0 || schedule[i] !== undefined) plan = planCreate(input, { ...(ctx.random ? { index: ctx.random } : {}), now: startedAt }, i, schedule[i]);
      result = await runOnce(plan, ctx, startedAt, stop);
    } catch (error) {
      // A cluster error ends the series; the runs already made are kept.
      await save().catch(() => {});
      throw error;
    }
    if (!plan.quiet) ctx.stderr.write(`${runLine(result.trace, i, schedule.length)}\n`);
    await saveRecording(result, plan, ctx);
    if (plan.exportOtlp !== undefined) ctx.stderr.write(`${await pushOtlp(plan.exportOtlp, [result.trace], runSetLabel(result.trace))}\n`);
    if (result.signal !== undefined) {
      if (traces.length === 0) traces.push(result.trace);
      break;
    }
    traces.push(result.trace);
    if (exitCode === EXIT.ok && result.exitCode !== EXIT.ok) exitCode = result.exitCode;
  }
  const set = makeRunSet(traces, runSetLabel(traces[0]!), TOOL_VERSION, groupBy);
  const text =
    first.output === 'json'
      ? renderRunSetJson(set)
      : first.output === 'yaml'
        ? renderRunSetYaml(set)
        : summaries(set, { color: useColor(ctx.stdout, ctx.env), width: ctx.stdout.columns ?? 100 });
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  await save();
  if (stop.stoppedBy !== undefined) return exitCodeFor(stop.stoppedBy);
  return withGates(exitCode, first.gates.length > 0 ? evaluateGates(set, first.gates) : [], ctx);
}

/** --per-node: the nodes that can take the pod, read once on a client of their own. */
async function nodesForRuns(plan: CreatePlan, ctx: CommandContext): Promise<string[]> {
  const api = await openKubeClient({ ...plan.kube, ...(plan.namespace !== undefined ? { namespace: plan.namespace } : {}) }, ctx);
  try {
    const tolerations = Array.isArray(plan.manifest.spec['tolerations']) ? (plan.manifest.spec['tolerations'] as never[]) : [];
    return await schedulableNodes(api, tolerations);
  } finally {
    await api.close().catch(() => {});
  }
}

/** The run set's summary; grouped by node, one per node and each node against the first (as `diff` prints it). */
function summaries(set: RunSet, options: { color: boolean; width: number }): string {
  const groups = splitByNode(set);
  if (groups.length === 1) return renderRunSetSummary(groups[0]!, options);
  const parts = groups.map((group) => renderRunSetSummary(group, options));
  for (const other of groups.slice(1)) parts.push(renderDiffTable(diff(groups[0]!, other), options));
  return parts.join('\n\n');
}

/** "nginx on kind-podtrace": what the runs share, for headings. */
export function runSetLabel(trace: Trace): string {
  const what = trace.run.options.image ?? trace.pod.name;
  const where = trace.cluster?.context ?? trace.cluster?.server;
  return where ? `${what} on ${where}` : what;
}
