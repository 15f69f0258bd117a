/**
 * `podtrace create`: the options become a plan (everything checked before
 * kubeconfig is read), the collector runs the pod's start and teardown, the
 * trace is rebuilt from what it recorded, printed and saved, and the gates
 * decide the exit code. `--runs N` repeats it (create-runs.ts).
 */
import path from 'node:path';
import { evaluateGates } from '../analysis/gates.js';
import { StopController } from '../collect/stop.js';
import { signalsOf, type CommandContext } from './context.js';
import { withSpansFromEnv } from './option-tables.js';
import { planCreate, type CreateInput } from './create-plan.js';
import { runOnce, saveRecording, withGates, type RunResult } from './create-run.js';
import { runRepeated, runSetLabel } from './create-runs.js';
import { pushOtlp } from './otlp-push.js';
import { defaultTracePath, displayPath, printTrace, saveTrace } from './output.js';

export async function run(input: CreateInput, ctx: CommandContext): Promise<number> {
  const startedAt = ctx.clock.now();
  input = { ...input, options: withSpansFromEnv(input.options, ctx.env) };
  // Everything the person typed is checked before kubeconfig is read or a request is sent.
  const plan = planCreate(input, { ...(ctx.random ? { index: ctx.random } : {}), now: startedAt });
  const { source, exit } = signalsOf(ctx);
  const stop = new StopController(source, exit);
  if (plan.runs > 1 || plan.perNode) {
    try {
      return await runRepeated(input, plan, ctx, startedAt, stop);
    } finally {
      stop.dispose();
    }
  }
  let result: RunResult;
  try {
    result = await runOnce(plan, ctx, startedAt, stop);
  } finally {
    stop.dispose();
  }
  const { trace } = result;
  printTrace(trace, plan.output, ctx.stdout, ctx.env);
  const cwd = ctx.cwd ?? process.cwd();
  const savedTo = plan.outPath !== undefined ? path.resolve(cwd, plan.outPath) : defaultTracePath(cwd, plan.podName, result.header.startedAt);
  await saveTrace(trace, savedTo);
  ctx.stderr.write(`trace saved to ${displayPath(savedTo, cwd)}\n`);
  await saveRecording(result, plan, ctx);
  if (plan.exportOtlp !== undefined) ctx.stderr.write(`${await pushOtlp(plan.exportOtlp, [trace], runSetLabel(trace))}\n`);
  return withGates(result.exitCode, plan.gates.length > 0 ? evaluateGates([trace], plan.gates) : [], ctx);
}
