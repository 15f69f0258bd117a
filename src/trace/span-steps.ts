/**
 * The trace's `spans` section: the components' own spans of the run as
 * sub-steps (the API server's handling of the POST and the DELETE, the
 * kubelet's syncs of the pod and the CRI calls it made), each with the
 * component that emitted it, its time on the client timeline, and, where an
 * event times the same moment, the event and the difference. What the
 * components emit no span for is named. Pure.
 */
import type { Context } from './context.js';
import type { SpanFindings } from './component-spans.js';
import { roundMs } from './format-ms.js';
import { nsToMs, type ComponentSpan } from './otlp-spans.js';
import type { Component, Milestone } from './types.js';
import type { SpanSection, SpanStep } from './section-types.js';

/** API server spans worth a row: the request, authorization, admission webhooks, the handler, storage. */
const API_SPANS: ReadonlyArray<[RegExp, (s: ComponentSpan) => string]> = [
  [/^authorization$/, () => 'authorization'],
  [/^Call mutating webhook$/, (s) => `admission: mutating webhook ${String(s.attributes['webhook'] ?? '')}`.trim()],
  [/^Call validating webhook$/, (s) => `admission: validating webhook ${String(s.attributes['webhook'] ?? '')}`.trim()],
  [/^(Create|Delete|Get|Update|Patch)$/, (s) => `handler (${s.name})`],
  [/^(Create|GuaranteedUpdate) etcd3$/, (s) => `etcd write (${s.name})`],
  [/^etcdserverpb\.KV\/Txn$/, () => 'etcd transaction (KV/Txn)'],
];

/** The CRI calls worth a row, and the milestone an event also times at their end (or start). */
const CRI_ROWS: Readonly<Record<string, { label: string; detail?: string; edge?: 'start' | 'end'; milestone?: (container: string) => string }>> = {
  RunPodSandbox: { label: 'RunPodSandbox', detail: 'pause container, network namespace, CNI' },
  PullImage: { label: 'PullImage', edge: 'end', milestone: (c) => `container.${c}.pulled` },
  CreateContainer: { label: 'CreateContainer', edge: 'end', milestone: (c) => `container.${c}.created` },
  StartContainer: { label: 'StartContainer', edge: 'end', milestone: (c) => `container.${c}.started` },
  ExecSync: { label: 'ExecSync', detail: 'an exec hook (or probe)' },
  StopContainer: { label: 'StopContainer', detail: 'stop signal, then the wait for the exit' },
  StopPodSandbox: { label: 'StopPodSandbox' },
};

const COMPONENT_OF: Readonly<Record<string, Component>> = { apiserver: 'apiserver', kubelet: 'kubelet', containerd: 'runtime' };

function step(span: ComponentSpan, label: string, depth: number, offsetMs: number, t0: number, resolutionMs: number, extra: Partial<SpanStep> = {}): SpanStep {
  const start = nsToMs(span.startNs) - offsetMs;
  return {
    id: `${span.service}.${span.spanId}`,
    label,
    component: extra.component ?? COMPONENT_OF[span.service] ?? 'node',
    service: span.service,
    name: span.name,
    startOffsetMs: roundMs(start - t0),
    durationMs: roundMs(nsToMs(span.endNs - span.startNs)),
    precisionMs: resolutionMs,
    depth,
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    startUnixNano: span.startNs.toString(),
    endUnixNano: span.endNs.toString(),
    ...(span.error ? { error: span.error } : {}),
    ...extra,
  };
}

function requestSteps(f: SpanFindings, offsetMs: number, t0: number): SpanStep[] {
  const out: SpanStep[] = [];
  for (const r of f.requests.filter((x) => x.call === 'createPod' || x.call === 'deletePod')) {
    const what = r.call === 'createPod' ? 'POST pod' : 'DELETE pod';
    if (r.authentication) out.push(step(r.authentication, `authentication (${what})`, 0, offsetMs, t0, f.resolutionMs, { detail: 'a root span of its own' }));
    out.push(
      step(r.server, `API server: ${what}`, 0, offsetMs, t0, f.resolutionMs, {
        detail: !r.byPodtrace ? `the request that created the pod (audit ID ${r.auditId})` : r.inRunTrace ? "in podtrace's trace" : "in a trace of the API server's own, linked to podtrace's",
      }),
    );
    for (const s of r.descendants) {
      const row = API_SPANS.find(([name]) => name.test(s.name));
      if (!row) continue;
      const depth = s.name.endsWith('etcd3') ? 2 : s.name.startsWith('etcdserverpb') ? 3 : 1;
      out.push(step(s, row[1](s), depth, offsetMs, t0, f.resolutionMs));
    }
  }
  return out;
}

function kubeletSteps(f: SpanFindings, milestones: readonly Milestone[], offsetMs: number, t0: number): SpanStep[] {
  const out: SpanStep[] = [];
  const at = new Map(milestones.map((m) => [m.id, m]));
  for (const sync of [...f.syncs, ...f.terminating].sort((a, b) => (a.startNs < b.startNs ? -1 : 1))) {
    const calls = f.cri.filter((c) => c.span.traceId === sync.traceId && CRI_ROWS[c.method]);
    // a sync that called the runtime for nothing the start is made of (a status resync) is no step
    if (calls.length === 0 && sync.name === 'syncPod' && sync !== f.syncs[0]) continue;
    const kind = String(sync.attributes['k8s.pod.update_type'] ?? '');
    out.push(step(sync, `kubelet ${sync.name}${kind ? ` (${kind})` : ''}`, 0, offsetMs, t0, f.resolutionMs));
    for (const call of calls) {
      const row = CRI_ROWS[call.method]!;
      const label = `${call.container ? `${call.container}: ` : ''}${row.label}`;
      const s = step(call.span, label, 1, offsetMs, t0, f.resolutionMs, {
        component: 'runtime',
        ...(call.container ? { container: call.container } : {}),
        ...(row.detail ? { detail: row.detail } : {}),
      });
      const milestone = call.container && row.milestone ? at.get(row.milestone(call.container)) : undefined;
      if (milestone && milestone.source !== 'span' && row.edge) {
        const edge = nsToMs(row.edge === 'end' ? call.span.endNs : call.span.startNs) - offsetMs;
        s.alsoTimedBy = { milestone: milestone.id, source: milestone.source, differenceMs: roundMs(edge - milestone.at) };
      }
      out.push(s);
    }
  }
  return out;
}

/** What the components emit no span for, and what never came from the backend. */
function notes(ctx: Context, f: SpanFindings): string[] {
  const out: string[] = [];
  if (f.read?.error) return [`no spans: ${f.read.error}`];
  for (const m of f.read?.missing ?? []) out.push(`never came within the wait: ${m}`);
  const services = new Set(f.all.map((s) => s.service));
  if (!services.has('apiserver')) out.push('no span from the API server: is its tracing on (--tracing-config-file)? podtrace doctor says');
  if (!services.has('kubelet')) out.push("no span from the kubelet: is its tracing on (KubeletConfiguration tracing)? podtrace doctor says");
  if (services.has('kubelet') && ![...services].some((s) => s.includes('containerd') || s.includes('crio'))) {
    out.push('the container runtime emitted no span: the sandbox (pause container, CNI) is one step, RunPodSandbox');
  }
  if (services.has('apiserver')) {
    out.push('the API server emits no span for built-in admission plugins, ValidatingAdmissionPolicy or validation: they are inside the handler');
  }
  if (services.has('kubelet')) out.push('the kubelet emits no span for pod cgroups, volumes, probes or non-exec lifecycle hooks (exec hooks are ExecSync)');
  const post = f.requests.find((r) => r.call === 'createPod');
  if (post && !post.authentication) out.push("the POST's authentication span (a root span of its own) was not matched");
  void ctx;
  return out;
}

export function spanSection(ctx: Context, milestones: readonly Milestone[], offsetMs: number, t0: number): { spans?: SpanSection } {
  const f = ctx.spans;
  if (!f) return {};
  const steps = [...requestSteps(f, offsetMs, t0), ...kubeletSteps(f, milestones, offsetMs, t0)];
  return {
    spans: {
      ...(f.backend ? { backend: f.backend } : {}),
      resolutionMs: f.resolutionMs,
      ...(f.read?.waitedMs !== undefined ? { waitedMs: roundMs(f.read.waitedMs) } : {}),
      read: f.all.length,
      steps,
      notes: notes(ctx, f),
    },
  };
}
