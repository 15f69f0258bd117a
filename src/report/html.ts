/**
 * One self-contained HTML page: inline CSS and SVG, no script, no external
 * resource of any kind (a Content-Security-Policy of default-src 'none'
 * says so to the browser too). A header with the environment facts, a
 * distribution per metric (box and strip plot, one lane per set), the diff
 * of two sets, then a waterfall per run. data-testid attributes name the
 * parts for end-to-end tests.
 */
import type { MetricDiff, TraceDiff } from '../analysis/diff-types.js';
import { formatMs, formatOffset } from '../trace/format-ms.js';
import { METRICS } from '../analysis/metrics.js';
import type { RunSet } from '../analysis/runset.js';
import { quantile, type Summary } from '../analysis/stats.js';
import type { Component, Trace } from '../trace/types.js';
import { describeCauses, describeExplain, describeOutcomes, metricValues, type ReportAggregate } from './aggregate.js';
import { verdictText } from './diff.js';
import { signedMs, signedPct } from './markdown.js';
import { environmentFacts, failed, failingStep, gapSummary, milestoneIndex, observedLines, phaseLabel } from './run-facts.js';
import { SOURCE_LABEL } from './style.js';

export interface HtmlReportInput {
  sets: readonly RunSet[];
  report: ReportAggregate;
  toolVersion: string;
}

/**
 * What the report's top (header, metrics, diff) needs of the runs: from whole sets
 * (htmlHeadOf), or gathered while a big run set is read a run at a time; the runs' articles
 * then come one by one (renderRunArticle), so the html need never be held whole.
 */
export interface HtmlHead {
  report: ReportAggregate;
  toolVersion: string;
  /** The environment's facts over every run (report/run-facts.ts). */
  environment: ReturnType<typeof environmentFacts>;
  /** Every component a run has a milestone of. */
  components: ReadonlySet<Component>;
  /** Per set, in order: every run's value of each metric. */
  values: ReadonlyArray<ReadonlyMap<string, number[]>>;
}

export function htmlHeadOf(input: HtmlReportInput): HtmlHead {
  return {
    report: input.report,
    toolVersion: input.toolVersion,
    environment: environmentFacts(input.sets),
    components: new Set(input.sets.flatMap((s) => s.runs.flatMap((t) => t.milestones.map((m) => m.component)))),
    values: input.sets.map((s) => metricValues(s.runs)),
  };
}

export const COMPONENT_COLOR: Readonly<Record<Component, string>> = {
  client: '#0891b2',
  apiserver: '#2563eb',
  scheduler: '#c026d3',
  'controller-manager': '#7c3aed',
  kubelet: '#16a34a',
  runtime: '#d97706',
  node: '#6b7280',
  'kube-proxy': '#0f766e',
  dns: '#be185d',
};

/** One color per input set in the distributions. */
const SET_COLORS = ['#2563eb', '#ea580c', '#059669', '#9333ea', '#db2777', '#0d9488', '#ca8a04', '#4b5563'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const esc = escapeHtml;
const num = (n: number) => (Math.round(n * 100) / 100).toString();

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
  return ticks;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2933; --muted: #616e7c; --bg: #ffffff; --panel: #f5f7fa; --rule: #d9e2ec; --bad: #dc2626; --good: #16a34a; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7eb; --muted: #9aa5b1; --bg: #15191e; --panel: #1f252d; --rule: #323f4b; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; } h4 { font-size: 14px; margin: 0 0 6px; font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.muted { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 12px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
ul.sets { margin: 8px 0; padding-left: 18px; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0; font-size: 12px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; background: var(--swatch); vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.metric-name { font-weight: 600; } .metric-desc { color: var(--muted); font-size: 12px; }
td.metric { width: 28%; }
td.wrap { overflow-wrap: anywhere; }
svg { display: block; height: auto; overflow: visible; }
.scroll { overflow-x: auto; }
svg.wf { width: 100%; min-width: 760px; } svg.dist { width: 100%; min-width: 560px; }
svg text { fill: currentColor; font: 11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
svg .axis { stroke: var(--muted); stroke-width: 1; } svg .grid { stroke: var(--rule); stroke-width: 1; }
svg .t0 { stroke: var(--muted); stroke-dasharray: 3 3; }
.run { background: var(--panel); border-radius: 6px; padding: 12px 14px; margin: 12px 0; }
.outcome-ok { color: var(--good); font-weight: 600; } .outcome-bad { color: var(--bad); font-weight: 600; } .outcome-wait { color: var(--muted); font-weight: 600; }
.verdict-regression { color: var(--bad); font-weight: 600; } .verdict-improvement { color: var(--good); font-weight: 600; }
details { margin-top: 8px; } summary { cursor: pointer; color: var(--muted); }
.notes { margin: 6px 0 0; padding-left: 18px; font-size: 12px; color: var(--muted); }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
`;

// ---- header ------------------------------------------------------------------

function header(input: HtmlHead): string {
  const { report } = input;
  const setItems = report.sets
    .map((s, i) => {
      const swatch = SET_COLORS[i % SET_COLORS.length]!;
      const causes = describeCauses(s.causes);
      const explain = describeExplain(s);
      return `<li data-testid="set" data-set="${esc(s.label)}"><span style="color:${swatch}">■</span> <b>${esc(s.label)}</b>: ${s.runs} run${s.runs === 1 ? '' : 's'} (${esc(describeOutcomes(s.outcomes))})${causes ? `<div data-testid="causes">causes: ${esc(causes)}</div>` : ''}${explain ? `<div data-testid="explain">${esc(explain)}</div>` : ''}</li>`;
    })
    .join('\n');
  const facts = input.environment
    .map((f) => `<dt>${esc(f.name)}</dt><dd data-fact="${esc(f.name)}">${f.values.map(esc).join('<br>')}</dd>`)
    .join('\n');
  // --expose's components only where a run has their steps
  const used = input.components;
  const legend = (Object.keys(COMPONENT_COLOR) as Component[])
    .filter((c) => (c !== 'kube-proxy' && c !== 'dns') || used.has(c))
    .map((c) => `<span style="--swatch:${COMPONENT_COLOR[c]}">${c}</span>`)
    .join('');
  return `<header data-testid="report-header">
<h1>podtrace report</h1>
<div class="muted">${esc(report.sets.map((s) => s.label).join(' vs '))}</div>
<ul class="sets">${setItems}</ul>
<dl class="facts" data-testid="facts">${facts}</dl>
<div class="legend" data-testid="legend">${legend}</div>
</header>`;
}

// ---- distributions -------------------------------------------------------------

const DIST = { width: 830, label: 130, plot: 370, gap: 16, lane: 24, axis: 22 };

interface Lane {
  label: string;
  values: number[];
  summary: Summary | undefined;
}

function distribution(metric: string, lanes: readonly Lane[]): string {
  const all = lanes.flatMap((s) => s.values);
  const max = Math.max(1, ...all);
  const ticks = niceTicks(0, max, 4);
  // the axis ends at the first tick past the largest value, so no dot sits on the edge
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : max;
  const top = Math.ceil((max * 1.02) / step) * step;
  if (ticks[ticks.length - 1]! < top) ticks.push(top);
  const x = (v: number) => DIST.label + (v / top) * DIST.plot;
  const statsX = DIST.label + DIST.plot + DIST.gap;
  const lanesH = lanes.length * DIST.lane;
  const height = lanesH + DIST.axis;
  const parts: string[] = [];
  for (const t of ticks) {
    parts.push(`<line class="grid" x1="${num(x(t))}" x2="${num(x(t))}" y1="0" y2="${lanesH}"/>`);
    parts.push(`<text x="${num(x(t))}" y="${lanesH + 14}" text-anchor="middle">${esc(formatMs(t))}</text>`);
  }
  lanes.forEach((lane, i) => {
    const color = SET_COLORS[i % SET_COLORS.length]!;
    const mid = i * DIST.lane + DIST.lane / 2;
    const s = lane.summary;
    const g = [
      `<g data-testid="distribution-lane" data-set="${esc(lane.label)}" data-n="${lane.values.length}"${s ? ` data-median="${s.median}" data-p90="${s.p90}" data-p99="${s.p99}"` : ''}>`,
      `<text x="${DIST.label - 8}" y="${mid + 4}" text-anchor="end"><title>${esc(lane.label)}</title>${esc(clip(lane.label, 20))}</text>`,
    ];
    if (lane.values.length === 0 || !s) {
      g.push(`<text x="${DIST.label + 4}" y="${mid + 4}" class="muted">no value</text></g>`);
      parts.push(g.join(''));
      return;
    }
    const q1 = quantile(lane.values, 0.25);
    const q3 = quantile(lane.values, 0.75);
    g.push(`<line x1="${num(x(s.min))}" x2="${num(x(s.max))}" y1="${mid}" y2="${mid}" stroke="${color}" stroke-width="1"/>`);
    g.push(`<rect x="${num(x(q1))}" y="${mid - 7}" width="${num(Math.max(1, x(q3) - x(q1)))}" height="14" fill="${color}" fill-opacity="0.18" stroke="${color}"/>`);
    g.push(`<line x1="${num(x(s.median))}" x2="${num(x(s.median))}" y1="${mid - 8}" y2="${mid + 8}" stroke="${color}" stroke-width="2.5"><title>median ${esc(formatMs(s.median))}</title></line>`);
    lane.values.forEach((v, j) => {
      // a fixed vertical spread, so equal values stay apart and the page is the same every time
      const dy = ((j % 5) - 2) * 2;
      g.push(`<circle cx="${num(x(v))}" cy="${mid + dy}" r="2.6" fill="${color}" fill-opacity="0.75"><title>${esc(`${lane.label} run ${j + 1}: ${formatMs(v)}`)}</title></circle>`);
    });
    const stats = s.n === 1 ? formatMs(s.median) : `n=${s.n} · median ${formatMs(s.median)} · p90 ${formatMs(s.p90)} · p99 ${formatMs(s.p99)}`;
    g.push(`<text x="${statsX}" y="${mid + 4}" data-testid="metric-stats">${esc(stats)}</text>`);
    g.push('</g>');
    parts.push(g.join(''));
  });
  return `<svg class="dist" data-testid="distribution" data-metric="${esc(metric)}" viewBox="0 0 ${DIST.width} ${height}" width="${DIST.width}" height="${height}" role="img" aria-label="${esc(`distribution of ${metric}`)}">${parts.join('')}</svg>`;
}

function metricsSection(input: HtmlHead): string {
  const values = input.values;
  const rows = METRICS.filter((m) => values.some((v) => v.has(m.name))).map((m) => {
    const lanes = input.report.sets.map((s, i) => ({ label: s.label, values: values[i]!.get(m.name) ?? [], summary: s.metrics[m.name] }));
    return `<tr data-testid="metric-row" data-metric="${esc(m.name)}">
<td class="metric"><div class="metric-name"><code>${esc(m.name)}</code> ${esc(m.label)}</div><div class="metric-desc">${esc(m.description)}</div></td>
<td><div class="scroll">${distribution(m.name, lanes)}</div></td></tr>`;
  });
  const body = rows.length ? rows.join('\n') : '<tr><td colspan="2" class="muted">no metric could be measured</td></tr>';
  return `<section data-testid="metrics"><h2>Metrics</h2>
<table data-testid="metrics-table"><thead><tr><th>metric</th><th>per set: box p25–p75, bar median, whiskers min–max, dots the runs</th></tr></thead>
<tbody>${body}</tbody></table></section>`;
}

// ---- diff ----------------------------------------------------------------------

function diffSection(diff: TraceDiff): string {
  const cell = (s: MetricDiff['a']) => (s ? esc(formatMs(s.median)) : '–');
  const rows = diff.metrics
    .map(
      (m) => `<tr data-testid="diff-row" data-metric="${esc(m.metric)}" data-verdict="${esc(m.verdict)}">
<td><code>${esc(m.metric)}</code> <span class="muted">${esc(m.label)}</span></td>
<td class="num">${cell(m.a)}</td><td class="num">${cell(m.b)}</td>
<td class="num">${m.deltaMs !== undefined ? esc(signedMs(m.deltaMs)) : '–'}</td>
<td class="num">${m.deltaPct !== undefined ? esc(signedPct(m.deltaPct)) : '–'}</td>
<td class="num">${m.ci ? esc(`${signedMs(m.ci.low)} … ${signedMs(m.ci.high)}`) : '–'}</td>
<td class="verdict-${esc(m.verdict)}">${esc(verdictText(m))}${m.threshold ? ` <span class="muted">(threshold ${esc(m.threshold)})</span>` : ''}</td></tr>`,
    )
    .join('\n');
  const context = diff.context.length
    ? `<h3>What else differs</h3><table data-testid="diff-context"><thead><tr><th></th><th>${esc(diff.a.label)}</th><th>${esc(diff.b.label)}</th></tr></thead><tbody>${diff.context
        .map((c) => `<tr><td>${esc(c.what)}</td><td class="wrap">${c.a.map(esc).join('<br>') || '–'}</td><td class="wrap">${c.b.map(esc).join('<br>') || '–'}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const regressions = diff.regressions.length
    ? `<p class="verdict-regression" data-testid="regressions">Regressions: ${diff.regressions.map(esc).join(', ')}</p>`
    : '';
  const notes = (diff.notes ?? []).map((n) => `<p class="muted">${esc(n)}</p>`).join('');
  return `<section data-testid="diff"><h2>${esc(diff.b.label)} vs ${esc(diff.a.label)}</h2>
<table data-testid="diff-table"><thead><tr><th>metric</th><th class="num">${esc(diff.a.label)} median</th><th class="num">${esc(diff.b.label)} median</th><th class="num">Δ</th><th class="num">Δ %</th><th class="num">95% CI of Δ</th><th>verdict</th></tr></thead>
<tbody>${rows}</tbody></table>${regressions}${context}${notes}</section>`;
}

// ---- waterfalls ----------------------------------------------------------------

const WF = { width: 1080, label: 330, duration: 78, row: 18, axis: 26, pad: 6 };

function outcomeLine(trace: Trace): string {
  const o = trace.outcome;
  if (o.class === 'ready') return `<span class="outcome-ok">✔ Ready ${esc(formatMs(o.readyAfterMs ?? 0))} after ${trace.run.mode !== undefined ? 'the pod was created' : 'the POST'}</span>`;
  if (o.class === 'in-progress') return `<span class="outcome-wait">… in progress${o.phase ? `: waiting for ${esc(o.phase)}` : ''}</span>`;
  const head = `✘ ${o.class}${o.reason ? ` (${o.reason})` : ''}${o.phase ? ` at ${o.phase}` : ''}`;
  const cause = o.cause
    ? `<div class="cause">cause <code>${esc(o.cause.code)}</code>: ${esc(o.cause.chain[0] ?? '')}${o.cause.chain
        .slice(1)
        .map((link) => `<div class="mono">← ${esc(link)}</div>`)
        .join('')}</div>`
    : '';
  return `<span class="outcome-bad">${esc(head)}</span>${o.message ? `<div class="mono">${esc(o.message)}</div>` : ''}${cause}${o.hint ? `<div>→ ${esc(o.hint)}</div>` : ''}`;
}

function waterfallSvg(trace: Trace): string {
  const phases = trace.phases;
  if (phases.length === 0) return '<p class="muted">(no phases)</p>';
  const milestones = milestoneIndex(trace);
  const failing = failingStep(trace);
  const start = Math.min(0, ...phases.map((p) => p.startOffsetMs));
  const end = Math.max(start + 1, ...phases.map((p) => p.startOffsetMs + p.durationMs));
  const plotX = WF.label + WF.pad;
  const plotW = WF.width - WF.label - WF.duration - 2 * WF.pad;
  const x = (ms: number) => plotX + ((ms - start) / (end - start)) * plotW;
  const rowsH = phases.length * WF.row;
  const height = rowsH + WF.axis;
  const parts: string[] = [];

  for (const t of niceTicks(start, end, 6)) {
    if (t < start || t > end) continue;
    parts.push(`<line class="grid" x1="${num(x(t))}" x2="${num(x(t))}" y1="0" y2="${rowsH}"/>`);
    parts.push(`<text x="${num(x(t))}" y="${rowsH + 13}" text-anchor="middle">${esc(formatOffset(t))}</text>`);
  }
  parts.push(`<line class="t0" x1="${num(x(0))}" x2="${num(x(0))}" y1="0" y2="${rowsH + 2}"/>`);
  parts.push(`<text x="${num(x(0))}" y="${rowsH + 24}" text-anchor="middle" class="muted">t0 = POST</text>`);

  phases.forEach((p, i) => {
    const y = i * WF.row;
    const component = p.component ?? 'node';
    const color = COMPONENT_COLOR[component];
    const label = phaseLabel(p, milestones);
    const bx = x(p.startOffsetMs);
    const bw = Math.max(1.5, x(p.startOffsetMs + p.durationMs) - bx);
    const isFailing = failing?.id === p.id;
    const to = p.to ? milestones.get(p.to) : undefined;
    const tip = [
      `${label}: ${formatMs(p.durationMs)} from ${formatOffset(p.startOffsetMs)}`,
      p.kind === 'step' ? `${p.from} → ${p.to}` : `reported by the ${component}`,
      to ? `timed from ${SOURCE_LABEL[to.source]} (±${formatMs(to.precisionMs)})` : undefined,
      isFailing ? `failed: ${trace.outcome.class}` : undefined,
    ]
      .filter(Boolean)
      .join('\n');
    const style = p.kind === 'reported' ? `fill="${color}" fill-opacity="0.35" stroke="${color}" stroke-dasharray="3 2"` : `fill="${color}"`;
    const outline = isFailing || p.clamped ? ' stroke="#dc2626" stroke-width="2"' : '';
    parts.push(
      `<g data-testid="waterfall-bar" data-phase="${esc(p.id)}" data-kind="${p.kind}" data-component="${component}"${isFailing ? ' data-failing="true"' : ''}>` +
        `<title>${esc(tip)}</title>` +
        `<text x="${WF.label}" y="${y + 13}" text-anchor="end"${p.kind === 'reported' ? ' class="muted"' : ''}>${esc(clip(label, 52))}</text>` +
        `<rect x="${num(bx)}" y="${y + 3}" width="${num(bw)}" height="${WF.row - 6}" rx="2" ${style}${outline}/>` +
        `<text x="${WF.width}" y="${y + 13}" text-anchor="end" class="mono">${esc(`${p.clamped ? '!' : ''}${formatMs(p.durationMs)}`)}</text>` +
        '</g>',
    );
  });
  return `<div class="scroll"><svg class="wf" viewBox="0 0 ${WF.width} ${height}" width="${WF.width}" height="${height}" role="img" aria-label="${esc(`waterfall of ${trace.pod.name}`)}">${parts.join('')}</svg></div>`;
}

function milestoneTable(trace: Trace): string {
  const rows = trace.milestones
    .map(
      (m) =>
        `<tr><td>${esc(m.label)}</td><td><code>${esc(m.id)}</code></td><td class="num">${esc(formatOffset(m.offsetMs))}</td><td>${esc(SOURCE_LABEL[m.source])}${m.fallback ? ` <span class="muted" title="${esc(m.fallback)}">(fallback)</span>` : ''}</td><td class="num">±${esc(formatMs(m.precisionMs))}</td><td>${esc(m.detail ?? '')}</td></tr>`,
    )
    .join('');
  return `<details><summary>milestones (${trace.milestones.length})</summary><table><thead><tr><th>milestone</th><th>id</th><th class="num">at</th><th>source</th><th class="num">precision</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

function notes(trace: Trace): string {
  const items = [
    ...(trace.run.incomplete ?? []).map((reason) => `incomplete trace: ${reason}`),
    ...trace.anomalies.map((a) => `${a.kind}: ${a.explanation}`),
    ...trace.gaps.map(gapSummary),
  ];
  return items.length ? `<ul class="notes">${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>` : '';
}

/** --observe / --logs: the after-Ready lines, and each log in a pre. */
function observedBlock(trace: Trace): string {
  if (!trace.observed) return '';
  const { summary, logs } = observedLines(trace.observed);
  const list = summary.length ? `<ul class="notes" data-testid="observed">${summary.map((l) => `<li>${esc(l.trim())}</li>`).join('')}</ul>` : '';
  const pres = logs.map((l) => `<p class="muted">${esc(l.heading)}</p><pre data-testid="logs">${esc(l.lines.join('\n'))}</pre>`).join('');
  return list + pres;
}

export function renderRunArticle(setLabel: string, trace: Trace, index: number): string {
  const facts = [trace.pod.namespace, trace.pod.nodeName ? `node ${trace.pod.nodeName}` : undefined, trace.pod.images.join(', ')].filter(Boolean).join(' · ');
  return `<article class="run" data-testid="waterfall" data-pod="${esc(trace.pod.name)}" data-set="${esc(setLabel)}" data-run="${index + 1}" data-outcome="${esc(trace.outcome.class)}"${failed(trace) ? ' data-failed="true"' : ''}>
<h4>${esc(trace.pod.name)} <span class="muted">run ${index + 1} · ${esc(facts)}</span></h4>
<div data-testid="outcome">${outcomeLine(trace)}</div>
${waterfallSvg(trace)}
${notes(trace)}
${observedBlock(trace)}
${milestoneTable(trace)}
</article>`;
}

/** Before set `setIndex`'s articles (the first set's comes right after renderHtmlStart). */
export function renderSetRunsHeading(setLabel: string, setIndex: number): string {
  return `${setIndex > 0 ? '\n' : ''}<h3 data-testid="set-runs" data-set="${esc(setLabel)}">${esc(setLabel)}</h3>\n`;
}

/** Between two articles of a set. */
export const ARTICLE_SEPARATOR = '\n';

/** Everything before the runs' articles. */
export function renderHtmlStart(input: HtmlHead): string {
  const title = `podtrace report: ${input.report.sets.map((s) => s.label).join(' vs ')}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="podtrace ${esc(input.toolVersion)}">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${header(input)}
<main>
${metricsSection(input)}
${input.report.diff ? diffSection(input.report.diff) : ''}
<section data-testid="runs"><h2>Runs</h2>`;
}

/** Everything after the runs' articles. */
export function renderHtmlEnd(toolVersion: string): string {
  return `</section>
</main>
<footer>podtrace ${esc(toolVersion)} · times are on the client's clock, offsets from the POST (t0); hover a bar or dot for details.</footer>
</body>
</html>
`;
}

export function renderHtml(input: HtmlReportInput): string {
  const parts = [renderHtmlStart(htmlHeadOf(input))];
  input.sets.forEach((set, i) => {
    parts.push(renderSetRunsHeading(set.label, i), set.runs.map((t, j) => renderRunArticle(set.label, t, j)).join(ARTICLE_SEPARATOR));
  });
  parts.push(renderHtmlEnd(input.toolVersion));
  return parts.join('');
}
