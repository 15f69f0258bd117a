/**
 * Where the time went, for a pod that became Ready: the path from the POST to Ready cut into the
 * steps that follow each other on it (API server, scheduling, kubelet pickup, sandbox, init
 * containers, images, container start, readiness), each with its share of the whole and what the
 * evidence says about it (the pull's size and throughput, cold or warm; the waits the pod's own
 * spec imposes: initialDelaySeconds, periodSeconds, init containers in sequence; a pull that
 * failed and backed off first). A few sentences for people, the parts for machines. Pure.
 */
import { formatMs, roundMs } from './format-ms.js';
import type { ContainerRef } from './context.js';
import { describeHandler } from './kube-objects.js';
import { probeSummary } from './cause-build.js';
import { pullFailureCause } from './messages.js';
import type { Explanation, ExplainPart, ContainerInfo, Milestone } from './types.js';

type Step = ExplainPart['step'];

const LABEL: Readonly<Record<Step, string>> = {
  api: 'API server',
  schedule: 'scheduling',
  kubelet: 'kubelet pickup',
  sandbox: 'sandbox and network',
  init: 'init containers',
  image: 'image pull',
  start: 'container start',
  readiness: 'readiness',
};

function bytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${Math.round(n / 1e6)} MB` : `${Math.round(n / 1e3)} kB`;
}

function pct(share: number): string {
  return `${Math.round(share * 100)} %`;
}

/**
 * `refs`: the pod's containers (init first) with their specs; `containers` what the trace says of
 * each; `milestones` on the client timeline; `t0` the POST.
 */
/** The kubelet's pull settings, as read from its /configz when a pull waited (a `kubelet-config` observation). */
export interface PullSettings {
  serializeImagePulls?: boolean;
  maxParallelImagePulls?: number;
  registryPullQPS?: number;
  registryBurst?: number;
  error?: string;
}

export function explainReady(
  milestones: readonly Milestone[],
  containers: readonly ContainerInfo[],
  refs: readonly ContainerRef[],
  t0: number,
  pullSettings?: PullSettings,
): Explanation | undefined {
  const at = (id: string): Milestone | undefined => milestones.find((m) => m.id === id);
  const ready = at('pod.ready');
  if (!ready) return undefined;
  const apps = refs.filter((r) => r.kind !== 'init');
  const inits = refs.filter((r) => r.kind === 'init');
  const imageReady = (r: ContainerRef) => at(`container.${r.name}.pulled`) ?? at(`container.${r.name}.image-present`);
  const total = ready.at - t0;
  if (!(total > 0)) return undefined;
  // the milestones on the way to Ready, in time order: each interval between two counts for the
  // step of the one that ends it (containers start one after another, so a second container's
  // pull comes after the first one's start: each interval is counted once)
  const kinds = new Map(refs.map((r) => [r.name, r.kind]));
  const path = milestones
    .filter((m) => m.at <= ready.at && stepOf(m.id, kinds) !== undefined)
    .sort((x, y) => x.at - y.at);
  const sums = new Map<Step, { ms: number; precisionMs: number }>();
  // a container whose first pull failed waits out the kubelet's back-off before it pulls again:
  // while it waits, the pod waits for its image, whatever else starts meanwhile
  const backOffs = refs.flatMap((r) => {
    const backOff = at(`container.${r.name}.pull-back-off`);
    const started = at(`container.${r.name}.started`);
    return backOff && started && started.at > backOff.at ? [{ from: backOff.at, to: started.at }] : [];
  });
  let from = t0;
  let fromPrecision = 0;
  for (const m of path) {
    if (m.at < from) continue;
    const step = backOffs.some((b) => b.from <= from && m.at <= b.to) ? 'image' : stepOf(m.id, kinds)!;
    const sum = sums.get(step) ?? { ms: 0, precisionMs: 0 };
    sum.ms += m.at - from;
    sum.precisionMs += m.precisionMs + fromPrecision;
    sums.set(step, sum);
    from = m.at;
    fromPrecision = m.precisionMs;
  }
  const parts: ExplainPart[] = [...sums].map(([step, sum]) => {
    const notes = notesFor(step, { milestones, containers, refs, apps, inits, at, imageReady, ...(pullSettings ? { pullSettings } : {}) });
    return { step, label: LABEL[step], ms: roundMs(sum.ms), share: Math.round((sum.ms / total) * 1e6) / 1e6, precisionMs: roundMs(sum.precisionMs), ...(notes.length > 0 ? { notes } : {}) };
  });
  const waits = specWaits(apps, inits);
  const ranked = [...parts].sort((a, b) => b.ms - a.ms);
  const top = ranked.filter((p, i) => i < 3 && p.share >= 0.05);
  const said = (top.length > 0 ? top : ranked.slice(0, 1)).map((p) => `${p.label} ${formatMs(p.ms)} (${pct(p.share)}${p.notes?.[0] ? `, ${p.notes[0]}` : ''})`);
  const summary = `${formatMs(total)} to Ready: ${said.join('; ')}${waits.length > 0 ? `. From the pod's spec: ${waits.join('; ')}` : ''}.`;
  return { totalMs: roundMs(total), summary, parts, ...(waits.length > 0 ? { waits } : {}) };
}

const FIXED: Readonly<Record<string, Step>> = {
  'api.accepted': 'api',
  'scheduler.scheduled': 'schedule',
  'kubelet.acknowledged': 'kubelet',
  'runtime.sandbox-ready': 'sandbox',
  'pod.containers-ready': 'readiness',
  'pod.ready': 'readiness',
};

/** The step an interval ending at this milestone belongs to; undefined: not on the way to Ready. */
function stepOf(id: string, kinds: ReadonlyMap<string, string>): Step | undefined {
  const fixed = FIXED[id];
  if (fixed) return fixed;
  // with init containers, Initialized is when the kubelet moved on to the app containers (without, it carries no time)
  if (id === 'pod.initialized') return [...kinds.values()].includes('init') ? 'init' : undefined;
  const m = /^container\.(.+)\.(pulling|pulled|image-present|created|started|completed|ready)$/.exec(id);
  if (!m) return undefined;
  if (kinds.get(m[1]!) === 'init') return 'init';
  switch (m[2]) {
    case 'pulled':
    case 'image-present':
      return 'image';
    case 'ready':
      return 'readiness';
    case 'completed':
      return undefined;
    default:
      return 'start';
  }
}

interface NoteContext {
  milestones: readonly Milestone[];
  containers: readonly ContainerInfo[];
  refs: readonly ContainerRef[];
  apps: readonly ContainerRef[];
  inits: readonly ContainerRef[];
  at: (id: string) => Milestone | undefined;
  imageReady: (r: ContainerRef) => Milestone | undefined;
  pullSettings?: PullSettings;
}

/** Why a pull waited, from the kubelet's own settings (or why they are unknown). */
function waitReason(s: PullSettings | undefined): string {
  if (!s) return '';
  if (s.error !== undefined) return ` (the kubelet's pull settings could not be read: ${s.error})`;
  if (s.serializeImagePulls === true) return ': the kubelet pulls one image at a time (serializeImagePulls: true, its /configz)';
  if (s.maxParallelImagePulls !== undefined) return `: the kubelet pulls at most ${s.maxParallelImagePulls} images at once (maxParallelImagePulls, its /configz)`;
  return '';
}

/** The kubelet's own pull rate limit, as its /configz gives it. */
function qpsReason(s: PullSettings | undefined): string {
  if (s?.registryPullQPS === undefined) return s?.error !== undefined ? `: the kubelet's own pull rate limit; its settings could not be read: ${s.error}` : ": the kubelet's own pull rate limit";
  return `: the kubelet's own pull rate limit, registryPullQPS ${s.registryPullQPS}/s${s.registryBurst !== undefined ? ` with a burst of ${s.registryBurst}` : ''} (its /configz)`;
}

function notesFor(step: Step, c: NoteContext): string[] {
  switch (step) {
    case 'image': {
      const out: string[] = [];
      // a pull that failed and was retried after the kubelet's back-off: the longest wait, said first
      for (const r of c.refs) {
        const backOff = c.at(`container.${r.name}.pull-back-off`);
        const started = c.at(`container.${r.name}.started`);
        const info = c.containers.find((x) => x.name === r.name);
        if (!backOff || !started || started.at <= backOff.at || !info) continue;
        const why = info.pullFailure ? pullFailureCause(info.pullFailure.message, 80) : 'its first pull failed';
        const qps = /pull QPS exceeded/i.test(info.pullFailure?.message ?? '') ? qpsReason(c.pullSettings) : '';
        out.push(`${r.name}: its first pull failed (${why}${qps}) and the kubelet backed off; it started ${formatMs(started.at - backOff.at)} later`);
      }
      // the container whose image came last first: it is the one on the path
      const byImage = [...c.apps].sort((a, b) => (c.imageReady(b)?.at ?? -Infinity) - (c.imageReady(a)?.at ?? -Infinity));
      for (const r of byImage) {
        const info = c.containers.find((x) => x.name === r.name);
        if (!info) continue;
        if (info.pull === 'present') out.push(`${r.name}: image present on the node (warm)`);
        else if (info.pull === 'pulled' && info.pullMs !== undefined) {
          const rate = info.imageSizeBytes !== undefined && info.pullMs > 0 ? `, ${bytes(info.imageSizeBytes)} at ${bytes((info.imageSizeBytes / info.pullMs) * 1000)}/s` : '';
          const waited =
            info.pullIncludingWaitingMs !== undefined && info.pullIncludingWaitingMs - info.pullMs >= 50
              ? `, after ${formatMs(info.pullIncludingWaitingMs - info.pullMs)} waiting for other pulls${waitReason(c.pullSettings)}`
              : '';
          out.push(`${r.name}: ${c.apps.length > 1 ? `pulled in ${formatMs(info.pullMs)}, ` : ''}${rate.replace(/^, /, '')}${rate ? ', ' : ''}cold${waited}`);
        }
        const failed = c.milestones.some((m) => m.id === `container.${r.name}.pull-failed`) || (info.pull === 'pulled' && info.pullFailure !== undefined);
        const said = c.at(`container.${r.name}.pull-back-off`) !== undefined && c.at(`container.${r.name}.started`) !== undefined;
        if (failed && !said) out.push(`${r.name}: a pull failed first and the kubelet backed off before retrying`);
      }
      if (out.length === 1 && c.apps.length === 1) return [out[0]!.replace(/^[^:]+: /, '')];
      return out;
    }
    case 'init': {
      const each = c.inits.map((r) => {
        const started = c.at(`container.${r.name}.started`);
        const done = c.at(`container.${r.name}.completed`);
        return started && done ? `${r.name} ${formatMs(done.at - started.at)}` : r.name;
      });
      return [`${c.inits.length === 1 ? '1 init container' : `${c.inits.length} init containers in sequence`}: ${each.join(', ')}, then the kubelet noticed the end and moved on to the app containers`];
    }
    case 'readiness': {
      const out: string[] = [];
      // the container Ready last first: it is the one on the path
      const byReady = [...c.apps].sort((a, b) => (c.at(`container.${b.name}.ready`)?.at ?? -Infinity) - (c.at(`container.${a.name}.ready`)?.at ?? -Infinity));
      for (const r of byReady) {
        const probe = probeSummary(r.spec.readinessProbe);
        const info = c.containers.find((x) => x.name === r.name);
        const failures = (info?.probeFailures ?? []).filter((f) => f.probe === 'readiness').reduce((n, f) => n + f.count, 0);
        const hook = r.spec.lifecycle?.postStart ? `its postStart hook (${describeHandler(r.spec.lifecycle.postStart)}) must finish first; ` : '';
        if (!probe) out.push(`${r.name}: ${hook}no readiness probe, Ready once the kubelet reports the started container`);
        else out.push(`${r.name}: ${hook}readiness probe every ${probe.period} s${probe.delay ? ` after ${probe.delay} s` : ''}${failures > 0 ? `, failed ${failures} time${failures === 1 ? '' : 's'} first` : ', passed at its first try'}`);
      }
      if (out.length === 1 && c.apps.length === 1) return [out[0]!.replace(/^[^:]+: /, '')];
      return out;
    }
    default:
      return [];
  }
}

/** Waits the pod's own spec imposes on the way to Ready. */
function specWaits(apps: readonly ContainerRef[], inits: readonly ContainerRef[]): string[] {
  const out: string[] = [];
  if (inits.length > 1) out.push(`${inits.length} init containers run one after another`);
  for (const r of apps) {
    const probe = probeSummary(r.spec.readinessProbe);
    if (probe?.delay) out.push(`${r.name}'s readiness probe waits initialDelaySeconds ${probe.delay} s before its first try`);
    if (probe && probe.period >= 5) out.push(`${r.name}'s readiness probe runs every ${probe.period} s: a failed try costs up to that`);
    const startup = probeSummary(r.spec.startupProbe);
    if (startup?.delay) out.push(`${r.name}'s startup probe waits initialDelaySeconds ${startup.delay} s`);
  }
  return out;
}
