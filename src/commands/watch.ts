/**
 * `podtrace watch -l SELECTOR`: the namespace watch (collect/namespace-watch.ts)
 * traces every new pod matching the selector; each trace goes to the run set
 * file as soon as it is final, and the run set is printed at the end.
 */
import path from 'node:path';
import { makeRunSet } from '../analysis/runset.js';
import { NamespaceWatch } from '../collect/namespace-watch.js';
import { exitCodeFor, StopController } from '../collect/stop.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { digestRun, RunDigests } from '../analysis/runset-digest.js';
import { renderDigestSummary } from '../report/runset-summary.js';
import { openKubeClient, signalsOf, type CommandContext } from './context.js';
import { favourSmallHeap } from './heap.js';
import { withSpansFromEnv, type WatchOptions } from './option-tables.js';
import { defaultRunSetPath, displayPath, useColor } from './output.js';
import { renderRunElement, RunSetWriter, writeRunSetYaml } from './runset-writer.js';
import { TOOL_VERSION } from './version.js';

export async function run(options: WatchOptions, ctx: CommandContext): Promise<number> {
  options = withSpansFromEnv(options, ctx.env);
  const selector = options.selector;
  if (selector === undefined) throw new UsageError('podtrace watch needs -l SELECTOR (e.g. -l app=web)');
  favourSmallHeap();
  const api = await openKubeClient(options, ctx);
  const namespace = api.target.namespace;
  const label = `${selector} in ${namespace}`;
  const cwd = ctx.cwd ?? process.cwd();
  const { source, exit } = signalsOf(ctx);
  const stop = new StopController(source, exit);
  const watch = new NamespaceWatch(
    api,
    {
      selector,
      forMs: options.forMs,
      ...(options.count !== undefined ? { count: options.count } : {}),
      quiet: options.quiet,
      ...(options.spans !== undefined ? { spans: options.spans } : {}),
    },
    { clock: ctx.clock, stderr: ctx.stderr, stop, toolVersion: TOOL_VERSION },
  );
  const savedTo = options.out !== undefined ? path.resolve(cwd, options.out) : defaultRunSetPath(cwd, 'watch', watch.startedAt);
  // Each pod's trace goes to the file once final, while the others still start; of it, only what
  // the summary needs stays in memory (its digest).
  const writer = new RunSetWriter(savedTo, { ...makeRunSet([], label, TOOL_VERSION), createdAt: watch.startedAt });
  const digests = new RunDigests();
  let result: Awaited<ReturnType<NamespaceWatch['run']>>;
  try {
    result = await watch.run({
      append: (trace) => {
        digests.append(digestRun(trace));
        return writer.append(renderRunElement(trace));
      },
      replace: (index, trace) => {
        digests.replace(index, digestRun(trace));
        writer.replace(index, renderRunElement(trace));
      },
    });
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    stop.dispose();
    await api.close().catch(() => {});
  }
  const { count, stoppedBy } = result;
  if (count === 0) {
    await writer.abort();
    const within = stoppedBy ? ` before ${stoppedBy}` : ` within --for ${Math.round(options.forMs / 1000)}s`;
    ctx.stderr.write(`podtrace: no pod matching ${selector} appeared in ${namespace}${within}: nothing saved\n`);
    return stoppedBy ? exitCodeFor(stoppedBy) : EXIT.timeout;
  }
  await writer.finish();
  // JSON and YAML are read back from the file, one run at a time
  if (options.output === 'json') await writer.copyTo(ctx.stdout);
  else if (options.output === 'yaml') await writeRunSetYaml(ctx.stdout, { ...makeRunSet([], label, TOOL_VERSION), createdAt: watch.startedAt }, writer.elements());
  else ctx.stdout.write(renderDigestSummary(label, digests, { color: useColor(ctx.stdout, ctx.env), width: ctx.stdout.columns ?? 100 }));
  ctx.stderr.write(`run set of ${count} pod${count === 1 ? '' : 's'} saved to ${displayPath(savedTo, cwd)}\n`);
  if (stoppedBy) return exitCodeFor(stoppedBy);
  return digests.firstFailureExit() ?? EXIT.ok;
}
