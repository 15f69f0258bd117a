/**
 * `podtrace inspect POD`: the best trace possible for a pod podtrace did not
 * create, from one read of what the API server still holds (collect/inspect.ts).
 * Each milestone keeps the source and precision it was timed from; what can
 * no longer be known is listed in run.incomplete.
 */
import path from 'node:path';
import { collectInspect } from '../collect/inspect.js';
import { EXIT } from '../exit-codes.js';
import { reconstruct } from '../trace/reconstruct.js';
import { serializeRecording } from '../trace/recording.js';
import { writeFileAtomic } from './atomic-write.js';
import { openKubeClient, type CommandContext } from './context.js';
import { withSpansFromEnv, type InspectOptions } from './option-tables.js';
import { printTrace, saveTrace } from './output.js';
import { validatePodName } from './parse/flags.js';
import { TOOL_VERSION } from './version.js';

export async function run(podName: string, options: InspectOptions, ctx: CommandContext): Promise<number> {
  validatePodName(podName, 'POD');
  options = withSpansFromEnv(options, ctx.env);
  const api = await openKubeClient(options, ctx);
  let collected: Awaited<ReturnType<typeof collectInspect>>;
  try {
    const note = (line: string) => ctx.stderr.write(`${line}\n`);
    collected = await collectInspect(api, podName, { clock: ctx.clock, toolVersion: TOOL_VERSION, note }, options.spans);
  } finally {
    await api.close().catch(() => {});
  }
  const trace = reconstruct(collected.header, collected.observations);
  printTrace(trace, options.output, ctx.stdout, ctx.env);
  const cwd = ctx.cwd ?? process.cwd();
  if (options.out !== undefined) {
    await saveTrace(trace, path.resolve(cwd, options.out));
    ctx.stderr.write(`trace saved to ${options.out}\n`);
  }
  if (options.record !== undefined) {
    await writeFileAtomic(path.resolve(cwd, options.record), serializeRecording(collected.header, collected.observations));
    ctx.stderr.write(`recording saved to ${options.record}\n`);
  }
  // The pod's state is the answer: Ready (or on its way) is 0, a failure its own code.
  return trace.outcome.exitCode ?? EXIT.ok;
}
