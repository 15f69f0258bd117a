/**
 * `podtrace doctor`: what the current context's cluster offers podtrace (spans,
 * events, metrics, access), the precision each step will get there, and the
 * one change that would improve each. Nothing is created. Exit 0 when all is
 * there, 40 when something could be better or could not be checked; a cluster
 * it cannot reach is 3, 4 or 6, as for every command.
 */
import { judge } from '../analysis/doctor.js';
import { collectDoctor } from '../collect/doctor.js';
import { exitCodeFor, StopController } from '../collect/stop.js';
import { renderDoctorJson, renderDoctorTable } from '../report/doctor.js';
import { openKubeClient, signalsOf, type CommandContext } from './context.js';
import { parseSpansUrl, type DoctorOptions } from './option-tables.js';
import { useColor } from './output.js';
import { TOOL_VERSION } from './version.js';

/** How long the API server's span of the traced request may take to be exported (its batch exporter: 5 s by default). */
export const DOCTOR_SPANS_WAIT_MS = 8000;
/** A kubelet traces its CRI calls every second: any span of it this recent says its spans arrive. */
export const KUBELET_SPANS_WINDOW_MS = 5 * 60_000;
export const MAX_NODES = 8;
export const NODE_READ_TIMEOUT_MS = 10_000;

export async function run(options: DoctorOptions, ctx: CommandContext): Promise<number> {
  const env = ctx.env['PODTRACE_SPANS'];
  const backend = options.spans ?? (env !== undefined && env !== '' ? parseSpansUrl(env) : undefined);
  const api = await openKubeClient(options, ctx);
  const { source, exit } = signalsOf(ctx);
  const stop = new StopController(source, exit);
  try {
    const findings = await collectDoctor(api, {
      clock: ctx.clock,
      ...(backend !== undefined ? { backend } : {}),
      spansWaitMs: DOCTOR_SPANS_WAIT_MS,
      kubeletWindowMs: KUBELET_SPANS_WINDOW_MS,
      maxNodes: MAX_NODES,
      nodeReadTimeoutMs: NODE_READ_TIMEOUT_MS,
      signal: stop.signal,
    });
    const report = judge(findings, TOOL_VERSION);
    ctx.stdout.write(options.output === 'json' ? renderDoctorJson(report) : renderDoctorTable(report, { color: useColor(ctx.stdout, ctx.env), width: ctx.stdout.columns ?? 100 }));
    // Ctrl-C ends the wait for spans: what was found is printed, and the exit code is the signal's.
    return stop.stoppedBy ? exitCodeFor(stop.stoppedBy) : report.exitCode;
  } finally {
    stop.dispose();
    await api.close().catch(() => {});
  }
}
