/**
 * `--observe DURATION` and `--logs N`: the window after Ready, before
 * podtrace deletes the pod. Restarts come from the pod's container statuses
 * (restartCount going up, lastState.terminated saying why: OOMKilled, Error),
 * probe failures from the kubelet's events, resource usage from the samples
 * the CLI took, logs from what it read. Pure.
 */
import { watchPrecision, type Context } from './context.js';
import { parseSecondsTime } from './event-time.js';
import { roundMs } from './format-ms.js';
import { num } from './kube-objects.js';
import { sampledContainers } from './usage.js';
import type { Observed, ObservedRestart, UsageSample } from './section-types.js';
import type { ContainerInfo } from './types.js';


export function observedSection(ctx: Context, offsetMs: number, t0: number, containers: readonly ContainerInfo[]): Observed | undefined {
  const started = ctx.client.get('observe-started')?.[0];
  const logs = ctx.client.get('logs') ?? [];
  if (!started && logs.length === 0) return undefined;
  const from = started?.observedAt ?? logs[0]!.observedAt;
  const ended = ctx.client.get('observe-ended')?.[0]?.observedAt;
  // The window ends when podtrace closed it, else at its DELETE, else at the last thing it saw.
  const to = ended ?? ctx.deleteSentAt ?? ctx.lastObservedAt;
  const observed: Observed = {
    fromOffsetMs: roundMs(from - t0),
    durationMs: started ? roundMs(Math.max(0, to - from)) : 0,
    requestedMs: num(started?.data?.durationMs) ?? 0,
    restarts: restartsIn(ctx, from, to, offsetMs, t0),
    probeFailures: containers.flatMap((c) =>
      (c.probeFailures ?? []).filter((f) => f.at >= from && f.at <= to).map((f) => ({ container: c.name, ...f })),
    ),
    usage: usageIn(ctx, t0),
  };
  if (logs.length) {
    observed.logs = logs.map((o) => {
      const d = o.data ?? {};
      const lines = Array.isArray(d.lines) ? d.lines.filter((l): l is string => typeof l === 'string') : [];
      return {
        container: typeof d.container === 'string' ? d.container : '?',
        lines,
        truncated: d.truncated === true,
        ...(typeof d.error === 'string' ? { error: d.error } : {}),
      };
    });
  }
  return observed;
}

/** Every rise of a container's restartCount seen in the window, with the reason its previous run ended. */
function restartsIn(ctx: Context, from: number, to: number, offsetMs: number, t0: number): ObservedRestart[] {
  const counts = new Map<string, number>();
  const out: ObservedRestart[] = [];
  for (const s of ctx.snapshots) {
    if (s.type === 'DELETED' || s.observedAt > to) continue;
    const statuses = [...(s.pod.status?.initContainerStatuses ?? []), ...(s.pod.status?.containerStatuses ?? [])];
    for (const st of statuses) {
      const count = st.restartCount ?? 0;
      const before = counts.get(st.name);
      counts.set(st.name, Math.max(before ?? 0, count));
      // Restarts before the window belong to the start, not to what came after Ready.
      if (s.observedAt < from || before === undefined || count <= before) continue;
      const term = st.lastState?.terminated;
      const finished = parseSecondsTime(term?.finishedAt, 'status-field-s');
      const at = finished ? finished.ms - offsetMs : s.observedAt;
      out.push({
        container: st.name,
        restartCount: count,
        at,
        offsetMs: roundMs(at - t0),
        source: finished ? 'status-field-s' : 'watch-observed',
        precisionMs: finished ? finished.precisionMs : watchPrecision(ctx),
        ...(term?.reason ? { reason: term.reason } : {}),
        ...(num(term?.exitCode) !== undefined ? { exitCode: term!.exitCode } : {}),
        ...(num(term?.signal) !== undefined ? { signal: term!.signal } : {}),
      });
    }
  }
  return out;
}

function usageIn(ctx: Context, t0: number): Observed['usage'] {
  const samples: UsageSample[] = [];
  let source: 'kubelet-stats' | 'metrics-api' | undefined;
  let error: string | undefined;
  for (const o of ctx.client.get('usage-sample') ?? []) {
    const d = o.data ?? {};
    if (typeof d.error === 'string') {
      error = d.error;
      continue;
    }
    if (d.source === 'kubelet-stats' || d.source === 'metrics-api') source = d.source;
    for (const c of sampledContainers(d)) {
      if (typeof c !== 'object' || c === null || typeof (c as { name?: unknown }).name !== 'string') continue;
      const r = c as { name: string; cpuMillicores?: unknown; memoryBytes?: unknown };
      const cpu = num(r.cpuMillicores);
      const memory = num(r.memoryBytes);
      samples.push({ offsetMs: roundMs(o.observedAt - t0), container: r.name, ...(cpu !== undefined ? { cpuMillicores: cpu } : {}), ...(memory !== undefined ? { memoryBytes: memory } : {}) });
    }
  }
  const peaks = new Map<string, { container: string; cpuMillicores?: number; memoryBytes?: number }>();
  for (const s of samples) {
    const p = peaks.get(s.container) ?? { container: s.container };
    if (s.cpuMillicores !== undefined) p.cpuMillicores = Math.max(p.cpuMillicores ?? 0, s.cpuMillicores);
    if (s.memoryBytes !== undefined) p.memoryBytes = Math.max(p.memoryBytes ?? 0, s.memoryBytes);
    peaks.set(s.container, p);
  }
  return {
    ...(source ? { source } : {}),
    samples,
    peak: [...peaks.values()],
    ...(samples.length === 0 && error ? { error } : {}),
  };
}
