/**
 * The human report: a header, one table row per milestone, the waterfall,
 * the outcome with its hint, then the notes (anomalies, gaps, admission).
 */
import Table from 'cli-table3';
import { formatMs, formatOffset } from '../trace/format-ms.js';
import type { Cause, Milestone, Outcome, Trace } from '../trace/types.js';
import { COMPONENT_STYLE, SOURCE_KIND, formatPrecision, painter, truncate, wrap, type Painter } from './style.js';
import { metricLines } from './metric-lines.js';
import { renderSpanTable } from './span-table.js';
import { renderWaterfall } from './waterfall.js';
import { gapSummary, observedLines } from './run-facts.js';

export interface TableOptions {
  color: boolean;
  /** Terminal columns. */
  width: number;
}

function header(trace: Trace, paint: Painter, width: number): string {
  const parts = [`podtrace ${trace.toolVersion}${trace.run.mode ? ` ${trace.run.mode}` : ''}`, `${trace.pod.namespace}/${trace.pod.name}`];
  const c = trace.cluster;
  if (c?.context) parts.push(`context ${c.context}${c.serverVersion ? ` (${c.serverVersion})` : ''}`);
  if (trace.pod.nodeName) parts.push(`node ${trace.pod.nodeName}`);
  if (trace.identity?.username) parts.push(`as ${trace.identity.username}`);
  // Whole parts only: drop trailing ones rather than cut a name in half.
  while (parts.length > 2 && parts.join(' · ').length > width) parts.pop();
  const [first, ...rest] = parts;
  // a long namespace/name can still overflow a narrow terminal on its own
  const tail = truncate(rest.join(' · '), Math.max(1, width - first!.length - 3));
  return [paint('bold', first!), tail].join(' · ');
}

function columnWidths(width: number): { widths: number[]; detail: boolean } {
  const start = 10;
  const duration = 10;
  const source = 18;
  const step = Math.min(42, Math.max(22, Math.floor(width * 0.32)));
  const detail = width - (step + start + duration + source) - 6;
  if (detail >= 14) return { widths: [step, start, duration, source, detail], detail: true };
  return { widths: [Math.max(16, width - (start + duration + source) - 5), start, duration, source], detail: false };
}

function milestoneRows(trace: Trace, paint: Painter, withDetail: boolean): string[][] {
  const durationTo = new Map(trace.phases.filter((p) => p.kind === 'step').map((p) => [p.to, p]));
  return trace.milestones.map((m: Milestone) => {
    const phase = durationTo.get(m.id);
    const duration = phase ? `${phase.clamped ? '!' : ''}${formatMs(phase.durationMs)}` : '';
    const source = `${SOURCE_KIND[m.source]} ${formatPrecision(m.precisionMs)}${m.fallback ? '*' : ''}`;
    const row = [
      paint(COMPONENT_STYLE[m.component], m.label),
      formatOffset(m.offsetMs),
      phase?.clamped ? paint('red', duration) : duration,
      m.fallback ? paint('yellow', source) : source,
    ];
    if (withDetail) row.push(m.detail ?? '');
    return row;
  });
}

/** Where the time went: the summary, then each step's share with its facts. */
function explainLines(explain: Trace['explain'], width: number): string[] {
  if (!explain) return [];
  return wrap(`where the time went: ${explain.summary.replace(/^[^:]+: /, '')}`, width, '  ');
}

function outcomeLines(outcome: Outcome, paint: Painter, width: number, inspected: boolean, explain?: Trace['explain']): string[] {
  if (outcome.class === 'ready') {
    return [paint('green', `✔ Ready ${formatMs(outcome.readyAfterMs ?? 0)} after ${inspected ? 'the pod was created' : 'the POST'}`), ...explainLines(explain, width)];
  }
  if (outcome.class === 'in-progress') {
    const lines = [paint('cyan', truncate(`… in progress${outcome.phase ? `: waiting for ${outcome.phase}` : ''}`, width))];
    const s = outcome.suspected;
    if (s) {
      const what = `${s.terminal ? 'failing:' : 'looks like'} ${s.class}${s.reason ? ` (${s.reason})` : ''}${s.message ? `: ${s.message}` : ''}`;
      lines.push(...wrap(what, width, '  ').map((l) => paint('yellow', l)));
      if (s.cause) lines.push(...causeLines(s.cause, width));
      lines.push(...wrap(`→ ${s.hint}`, width, '  '));
    }
    return lines;
  }
  const head = `✘ ${outcome.class}${outcome.reason ? ` (${outcome.reason})` : ''}${outcome.phase ? ` at ${outcome.phase}` : ''}`;
  const lines = wrap(head, width).map((l) => paint('red', l));
  if (outcome.message) lines.push(...wrap(outcome.message, width, '  '));
  if (outcome.cause) lines.push(...causeLines(outcome.cause, width));
  if (outcome.hint) lines.push(...wrap(`→ ${outcome.hint}`, width, '  '));
  return lines;
}

/** The cause chain, one link a line: what podtrace saw, then each cause of the line above. */
export function causeLines(cause: Cause, width: number): string[] {
  const [seen, ...why] = cause.chain;
  return [
    ...wrap(`cause [${cause.code}]: ${seen ?? ''}`, width, '  '),
    ...why.flatMap((link) => wrap(`  ← ${link}`, width, '  ')),
  ];
}

function notes(trace: Trace, paint: Painter, width: number): string[] {
  const out: string[] = [];
  const fit = (s: string) => truncate(s, Math.max(20, width));
  const deleteReview = trace.accessReviews.find((r) => r.verb === 'delete');
  if (deleteReview?.allowed === false && !trace.run.options.keep) {
    const { namespace, name } = trace.pod;
    out.push(
      ...wrap(
        `! not allowed to delete pods in ${namespace}: podtrace cannot clean up after itself; delete the pod yourself: kubectl delete pod -n ${namespace} ${name}`,
        width,
      ).map((l) => paint('yellow', l)),
    );
  }
  for (const reason of trace.run.incomplete ?? []) out.push(...wrap(`! incomplete trace: ${reason}`, width).map((l) => paint('yellow', l)));
  for (const a of trace.anomalies) out.push(paint('yellow', fit(`! ${a.kind}: ${a.explanation}`)));
  for (const g of trace.gaps) {
    const recovered = g.recoveredFromStatus.length ? `; from status instead of events: ${g.recoveredFromStatus.join(', ')}` : '';
    out.push(paint('yellow', fit(`~ ${gapSummary(g)}${recovered}`)));
  }
  if (trace.milestones.some((m) => m.fallback)) out.push(paint('dim', '* timed from a fallback source (see the trace file for why)'));
  // What a mutating webhook or policy did, field by field; the API server's own defaulting in one line.
  const mutated = trace.admission.changes.filter((c) => c.origin === 'admission');
  const defaulted = trace.admission.changes.filter((c) => c.origin !== 'admission');
  if (mutated.length) {
    out.push(paint('yellow', fit(`admission (a mutating webhook or policy) changed ${mutated.length} field(s):`)));
    for (const c of mutated) {
      const what =
        c.op === 'added'
          ? `= ${JSON.stringify(c.after)}`
          : c.op === 'removed'
            ? `removed (was ${JSON.stringify(c.before)})`
            : `${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`;
      out.push(fit(`  ${c.path} ${what}`));
    }
  }
  if (defaulted.length) {
    const top = [...new Set(defaulted.map((c) => c.path.replace(/\[\d+\].*$/, '').replace(/^(\w+\.\w+)\..*$/, '$1')))];
    out.push(paint('dim', fit(`defaulting filled ${defaulted.length} field(s): ${top.join(', ')}`)));
  }
  const attempts = trace.scheduling.attempts;
  if (attempts.length > 1 || (attempts[0]?.count ?? 0) > 1) {
    for (const a of attempts) {
      out.push(fit(`scheduler ${formatOffset(a.offsetMs)}${a.count > 1 ? ` (${a.count}×)` : ''}: ${a.message}`));
    }
  }
  for (const c of trace.containers) {
    for (const f of c.probeFailures ?? []) {
      const when = f.lastOffsetMs !== undefined ? `${formatOffset(f.offsetMs)} to ${formatOffset(f.lastOffsetMs)}` : formatOffset(f.offsetMs);
      out.push(fit(`${c.name}: ${f.probe} probe failed ${f.count}× ${when}: ${f.message.replace(/^\w+ probe failed: /, '')}`));
    }
  }
  for (const c of trace.containers) {
    if (c.pull === 'pulled' && c.pullMs !== undefined) {
      const size = c.imageSizeBytes !== undefined ? `, ${(c.imageSizeBytes / 1e6).toFixed(1)} MB` : '';
      out.push(paint('dim', fit(`${c.name}: ${c.image} pulled in ${formatMs(c.pullMs)} (kubelet)${size}`)));
    } else if (c.pull === 'present') {
      out.push(paint('dim', fit(`${c.name}: ${c.image} already present on the node`)));
    }
  }
  const roundTrip = trace.phases.find((p) => p.id === 'api.post-round-trip');
  if (roundTrip) out.push(paint('dim', fit(`${roundTrip.label.replace(/ \(client-measured\)$/, '')} in ${formatMs(roundTrip.durationMs)} (client clock)`)));
  const timing = timingLine(trace);
  if (timing) out.push(...wrap(timing, width).map((l) => paint('dim', l)));
  out.push(...metricLines(trace, paint, width));
  if (trace.node) out.push(...nodeLines(trace, width).map((l) => paint('dim', l)));
  if (trace.service) out.push(...wrap(serviceLine(trace.service), width));
  if (trace.observed) {
    const { summary, logs } = observedLines(trace.observed);
    const restarted = trace.observed.restarts.length > 0;
    for (const line of summary) {
      const inner = line.startsWith('  ');
      const wrapped = wrap(line.trim(), width - (inner ? 2 : 0)).map((l) => (inner ? `  ${l}` : l));
      out.push(...wrapped.map((l) => (restarted && /restarts: (?!none)/.test(line) ? paint('yellow', l) : l)));
    }
    for (const l of logs) {
      out.push(paint('bold', fit(l.heading)));
      for (const line of l.lines) out.push(paint('dim', fit(`  │ ${line}`)));
    }
  }
  return out;
}

/**
 * How the times were put on one timeline: the server-client clock offset and
 * its bounds, and how late the watches delivered in this run (the precision of
 * every "watch" step).
 */
export function timingLine(trace: Trace): string | undefined {
  const c = trace.clock;
  const d = c.delivery;
  if (!d) return undefined;
  const bounds = c.lowerMs !== null || c.upperMs !== null ? ` (bounds ${c.lowerMs !== null ? formatMs(c.lowerMs) : '-∞'} … ${c.upperMs !== null ? formatMs(c.upperMs) : '+∞'}, ${c.samples} samples)` : ' (no bounds)';
  const offset = `server−client clock offset ${formatMs(c.estimateMs)}${bounds}`;
  if (d.samples === 0) return `${offset}; watch delivery not measured (no stamped event, no ADDED after a POST): watch steps are as precise as the client clock only`;
  const parts = [`${d.events} stamped event${d.events === 1 ? '' : 's'}`, ...(d.afterPostResponseMs !== undefined ? ['the pod\'s ADDED after the POST response'] : [])];
  return `${offset}; watch steps ±${formatMs(d.maxMs!)}: the slowest of ${d.samples} deliveries measured (${parts.join(', ')}; median ${formatMs(d.medianMs!)})`;
}

/**
 * The node the pod ran on: versions, its conditions when the run started and
 * every change during it, allocatable beside the pod's requests, the QoS class.
 */
export function nodeLines(trace: Trace, width: number): string[] {
  const n = trace.node!;
  const versions = [
    n.kubeletVersion && `kubelet ${n.kubeletVersion}`,
    n.containerRuntimeVersion,
    n.osImage,
    n.kernelVersion && `kernel ${n.kernelVersion}`,
    n.architecture,
  ].filter(Boolean);
  const lines = [`node ${n.name}${versions.length ? `: ${versions.join(', ')}` : ''}`];
  if (n.conditionsAtStart.length) {
    const conditions = n.conditionsAtStart.map((c) => `${c.type}=${c.status}`).join(' ');
    lines.push(`  conditions at start: ${conditions}`);
  }
  for (const c of n.conditionChanges) {
    lines.push(`  ${formatOffset(c.offsetMs)} ${c.type} ${c.previousStatus ?? '?'} → ${c.status}${c.reason ? ` (${c.reason})` : ''}`);
  }
  const fits = Object.entries(n.resources).map(([name, r]) => `${name} ${r.requested} of ${r.allocatable ?? '?'}`);
  const qos = trace.pod.qosClass ? `QoS ${trace.pod.qosClass}` : '';
  if (fits.length || qos) lines.push(`  requests vs allocatable: ${[fits.join(', ') || 'none', qos].filter(Boolean).join('; ')}`);
  return lines.flatMap((l) => {
    const inner = l.startsWith('  ');
    return wrap(l.trim(), width - (inner ? 2 : 0)).map((w) => (inner ? `  ${w}` : w));
  });
}

/** --expose: where the Service answers, and whether anything in the cluster can look its name up. */
export function serviceLine(s: NonNullable<Trace['service']>): string {
  if (s.error) return `service ${s.namespace}/${s.name} could not be created: ${s.error}`;
  const at = s.clusterIP ? `${s.clusterIP}:${s.port}` : `port ${s.port}`;
  const endpoint = s.endpoint ? `, endpoint ${s.endpoint.address} ${s.endpoint.ready ? 'ready' : 'not ready'}` : ', no endpoint seen';
  const dns =
    s.clusterDns === 'found'
      ? ''
      : s.clusterDns === 'absent'
        ? ' (the cluster has no DNS Service, kube-system/kube-dns: the name resolves nowhere; use the cluster IP)'
        : ' (could not tell whether the cluster runs DNS)';
  const reach = (s.reach ?? []).map((r) => {
    const route = r.what === 'route';
    const what = route ? `cluster IP ${r.target}` : `name ${r.target}`;
    const verb = route ? 'reached' : 'resolved';
    const from = r.vantage === 'pod' ? `from a pod on ${r.node ?? 'an unknown node'}` : "from podtrace's machine";
    if (r.ok) return `${what} ${verb} ${from} (try ${r.attempts}${r.firstTry ? ', its first' : ''})`;
    const why = r.error ? `: ${r.error}` : '';
    const hint = route && r.vantage === 'client' ? ' (on kind or minikube the Service range rarely routes to the host)' : '';
    return `${what} not ${verb} ${from} in ${r.attempts} tries${why}${hint}`;
  });
  const probe = s.probe ? [`no answer from inside the cluster (probe pod ${s.probe.pod}${s.probe.node ? ` on ${s.probe.node}` : ''}: ${s.probe.error})`] : [];
  return [`service ${s.dnsName} → ${at}${endpoint}${dns}`, ...reach, ...probe].join('; ');
}

/** cli-table3 rules every row or none: put one rule back under the heading only. */
function withHeadRule(rendered: string): string {
  const lines = rendered.split('\n');
  if (lines.length < 3) return rendered;
  const rule = lines[0]!.replace('┌', '├').replaceAll('┬', '┼').replace('┐', '┤');
  return [lines[0], lines[1], rule, ...lines.slice(2)].join('\n');
}

export function renderTable(trace: Trace, options: TableOptions): string {
  const paint = painter(options.color);
  const width = Math.max(50, options.width);
  const { widths, detail } = columnWidths(width);
  const table = new Table({
    head: ['step', 'start', 'duration', 'source/precision', ...(detail ? ['detail'] : [])],
    colWidths: widths,
    colAligns: ['left', 'right', 'right', 'left', 'left'].slice(0, widths.length) as Array<'left' | 'right'>,
    wordWrap: true,
    // One line per step, no rule between rows: the table stays as tall as the trace is long.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: options.color ? ['bold'] : [], border: options.color ? ['gray'] : [], 'padding-left': 1, 'padding-right': 1 },
  });
  for (const row of milestoneRows(trace, paint, detail)) table.push(row);

  const sections = [header(trace, paint, width), trace.milestones.length ? withHeadRule(table.toString()) : paint('dim', '(nothing observed yet)')];
  sections.push(renderWaterfall(trace, { color: options.color, width }));
  const spanTable = renderSpanTable(trace, paint, width);
  if (spanTable) sections.push(spanTable);
  sections.push(outcomeLines(trace.outcome, paint, width, trace.run.mode !== undefined, trace.explain).join('\n'));
  const n = notes(trace, paint, width);
  if (n.length) sections.push(n.join('\n'));
  return `${sections.join('\n\n')}\n`;
}
