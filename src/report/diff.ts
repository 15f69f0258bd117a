/**
 * `podtrace diff` output: a terminal table, JSON (the TraceDiff as is) and
 * Markdown (for a pull-request comment). Strings only; the command writes.
 */
import Table from 'cli-table3';
import type { ContextDifference, MetricDiff, TraceDiff } from '../analysis/diff-types.js';
import { formatMs } from '../trace/format-ms.js';
import { painter, truncate, wrap, type Painter } from './style.js';

export interface DiffTableOptions {
  color: boolean;
  /** Terminal columns. */
  width: number;
}

function signed(ms: number): string {
  return ms > 0 ? `+${formatMs(ms)}` : formatMs(ms);
}

function pct(m: MetricDiff): string {
  if (m.deltaPct === undefined) return m.deltaMs !== undefined && m.deltaMs !== 0 && m.a?.median === 0 ? 'new' : '';
  if (Math.abs(m.deltaPct) < 0.05) return '0%';
  return `${m.deltaPct > 0 ? '+' : ''}${m.deltaPct.toFixed(Math.abs(m.deltaPct) < 10 ? 1 : 0)}%`;
}

function interval(m: MetricDiff): string {
  return m.ci ? `${signed(m.ci.low)} … ${signed(m.ci.high)}` : '';
}

function levelText(diff: TraceDiff): string {
  const level = diff.metrics.find((m) => m.ci)?.ci?.level ?? 0.95;
  return `${Math.round(level * 100)}%`;
}

/** Short verdict words; a total explained by its steps says by which. `compact` leaves out the threshold. */
export function verdictText(m: MetricDiff, compact = false): string {
  const by = m.explainedBy?.join(', ');
  switch (m.verdict) {
    case 'regression':
      return by ? `▲ follows ${by}` : '▲ regression';
    case 'improvement':
      return by ? `▼ follows ${by}` : '▼ improvement';
    case 'noise':
      return 'noise';
    case 'within-threshold':
      return compact ? 'within' : `within ${m.threshold?.replace(/^\w+=/, '') ?? 'threshold'}`;
    case 'within-error':
      return compact ? 'within error' : `within error ±${formatMs(m.precisionMs ?? 0)}`;
    case 'unchanged':
      return 'unchanged';
    case 'n/a':
      return '—';
  }
}

function paintVerdict(paint: Painter, m: MetricDiff, compact: boolean): string {
  const text = verdictText(m, compact);
  if (m.explainedBy) return paint('yellow', text);
  if (m.verdict === 'regression') return paint('red', text);
  if (m.verdict === 'improvement') return paint('green', text);
  if (m.verdict === 'within-threshold' || m.verdict === 'within-error') return text;
  return paint('dim', text);
}

function sideCell(s: MetricDiff['a'], spread: boolean, paint: Painter): string {
  if (!s) return paint('dim', '—');
  if (!spread || s.n < 2) return formatMs(s.median);
  return `${formatMs(s.median)}\n${paint('dim', `p90 ${formatMs(s.p90)} p99 ${formatMs(s.p99)}`)}`;
}

function sideHeading(side: 'A' | 'B', runs: number): string {
  return runs > 1 ? `${side} median` : side;
}

/** "within measurement error: pull +20ms beyond its threshold, within ±40ms": changes too small for the two measurements to tell apart. */
export function withinErrorLine(diff: TraceDiff): string | undefined {
  const within = diff.metrics.filter((m) => m.verdict === 'within-error');
  if (within.length === 0) return undefined;
  return `within measurement error, not counted: ${within.map((m) => `${m.metric} ${signed(m.deltaMs ?? 0)} (beyond its threshold, within ±${formatMs(m.precisionMs ?? 0)})`).join(', ')}`;
}

/** One line per regression for stderr: `regression: pull +2.87s (95% CI +2.80s … +2.95s; threshold 10%)`; undefined when none. */
export function regressionSummary(diff: TraceDiff): string | undefined {
  const parts = diff.regressions.map((name) => {
    const m = diff.metrics.find((x) => x.metric === name)!;
    const why = m.ci ? `${Math.round(m.ci.level * 100)}% CI ${interval(m)}` : 'single runs';
    return `${name} ${signed(m.deltaMs ?? 0)} (${why}; threshold ${m.threshold?.replace(/^\w+=/, '') ?? ''})`;
  });
  return parts.length > 0 ? `regression${parts.length > 1 ? 's' : ''}: ${parts.join(', ')}` : undefined;
}

function contextLines(context: readonly ContextDifference[], width: number, paint: Painter): string[] {
  if (context.length === 0) return [paint('dim', 'nothing else differs (node, versions, image, pull, QoS, admission)')];
  const lines = ['also different:'];
  for (const c of context) {
    const label = c.what === 'admission changes' ? 'admission changes (only on one side)' : c.what;
    const a = c.a.length > 0 ? c.a.join('; ') : 'none';
    const b = c.b.length > 0 ? c.b.join('; ') : 'none';
    lines.push(...wrap(`${label}: A ${a} · B ${b}`, width, '  '));
  }
  return lines;
}

function withHeadRule(rendered: string): string {
  const lines = rendered.split('\n');
  if (lines.length < 3) return rendered;
  const rule = lines[0]!.replace('┌', '├').replaceAll('┬', '┼').replace('┐', '┤');
  return [lines[0], lines[1], rule, ...lines.slice(2)].join('\n');
}

interface Layout {
  /** p90 and p99 under each median. */
  spread: boolean;
  pct: boolean;
  compact: boolean;
}

function metricTable(diff: TraceDiff, paint: Painter, color: boolean, layout: Layout): string {
  const withCi = diff.metrics.some((m) => m.ci);
  const head = [
    'metric',
    sideHeading('A', diff.a.runs),
    sideHeading('B', diff.b.runs),
    'Δ',
    ...(layout.pct ? ['Δ %'] : []),
    ...(withCi ? [`${levelText(diff)} CI of Δ`] : []),
    'verdict',
  ];
  const table = new Table({
    head,
    colAligns: ['left', 'right', 'right', 'right', ...(layout.pct ? ['right' as const] : []), ...(withCi ? ['right' as const] : []), 'left'],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: color ? ['bold'] : [], border: color ? ['gray'] : [], 'padding-left': 1, 'padding-right': 1 },
  });
  for (const m of diff.metrics) {
    table.push([
      m.metric,
      sideCell(m.a, layout.spread, paint),
      sideCell(m.b, layout.spread, paint),
      m.deltaMs !== undefined ? signed(m.deltaMs) : '',
      ...(layout.pct ? [pct(m)] : []),
      ...(withCi ? [interval(m)] : []),
      paintVerdict(paint, m, layout.compact),
    ]);
  }
  return withHeadRule(table.toString());
}

const ANSI = /\u001b\[[0-9;]*m/g;

function widest(text: string): number {
  return Math.max(...text.split('\n').map((l) => l.replace(ANSI, '').length));
}

export function renderDiffTable(diff: TraceDiff, options: DiffTableOptions): string {
  const paint = painter(options.color);
  const width = Math.max(60, options.width);
  const spread = diff.a.runs > 1 || diff.b.runs > 1;
  // The richest layout that fits: p90/p99 under each median, then without them, without Δ %, shorter verdicts.
  const layouts: Layout[] = [
    ...(spread ? [{ spread: true, pct: true, compact: false }] : []),
    { spread: false, pct: true, compact: false },
    { spread: false, pct: false, compact: false },
    { spread: false, pct: false, compact: true },
  ];
  let table = '';
  for (const layout of layouts) {
    table = metricTable(diff, paint, options.color, layout);
    if (widest(table) <= width) break;
  }
  const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  const sections = [
    [
      `${paint('bold', 'A')} ${truncate(diff.a.label, width - 12)} (${runs(diff.a.runs)})`,
      `${paint('bold', 'B')} ${truncate(diff.b.label, width - 12)} (${runs(diff.b.runs)})`,
    ].join('\n'),
    table,
  ];
  const summary = regressionSummary(diff);
  sections.push(summary ? paint('red', wrap(summary, width).join('\n')) : paint('green', 'no regression beyond the thresholds'));
  const within = withinErrorLine(diff);
  if (within) sections.push(paint('yellow', wrap(within, width).join('\n')));
  if (diff.why?.length) sections.push(['why:', ...diff.why.flatMap((w) => wrap(w.text, width, '  '))].join('\n'));
  sections.push(contextLines(diff.context, width, paint).join('\n'));
  const notes = diff.notes ?? [];
  if (notes.length > 0) sections.push(notes.flatMap((n) => wrap(`note: ${n}`, width)).map((l) => paint('dim', l)).join('\n'));
  return `${sections.join('\n\n')}\n`;
}

export function renderDiffJson(diff: TraceDiff): string {
  return `${JSON.stringify(diff, null, 2)}\n`;
}

function md(text: string): string {
  return text.replace(/([\\|*_`<>[\]])/g, '\\$1');
}

function mdCode(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

export interface DiffMarkdownOptions {
  /** Heading level of the title (default 2: `##`). */
  headingLevel?: number;
}

/** GitHub-flavoured Markdown: a title, the metric table, regressions, other differences, notes. */
export function renderDiffMarkdown(diff: TraceDiff, options: DiffMarkdownOptions = {}): string {
  const level = Math.min(6, Math.max(1, options.headingLevel ?? 2));
  const h = '#'.repeat(level);
  const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  const spread = diff.a.runs > 1 || diff.b.runs > 1;
  const withCi = diff.metrics.some((m) => m.ci);
  const cell = (s: MetricDiff['a'], key: 'median' | 'p90' | 'p99') => (s ? formatMs(s[key]) : '—');
  const head = [
    'metric',
    ...(spread ? ['A median', 'A p90', 'A p99', 'B median', 'B p90', 'B p99'] : ['A', 'B']),
    'Δ',
    'Δ %',
    ...(withCi ? [`${levelText(diff)} CI of Δ`] : []),
    'threshold',
    'verdict',
  ];
  const align = head.map((_, i) => (i === 0 || i === head.length - 1 ? '---' : '---:'));
  const rows = diff.metrics.map((m) => {
    const verdict = m.verdict === 'regression' && !m.explainedBy ? `**${verdictText(m)}**` : verdictText(m);
    return [
      md(m.metric),
      ...(spread ? [cell(m.a, 'median'), cell(m.a, 'p90'), cell(m.a, 'p99'), cell(m.b, 'median'), cell(m.b, 'p90'), cell(m.b, 'p99')] : [cell(m.a, 'median'), cell(m.b, 'median')]),
      m.deltaMs !== undefined ? signed(m.deltaMs) : '',
      pct(m),
      ...(withCi ? [interval(m)] : []),
      md(m.threshold?.replace(/^\w+=/, '') ?? ''),
      verdict,
    ];
  });
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const out: string[] = [
    `${h} podtrace diff`,
    '',
    `- **A** ${md(diff.a.label)} (${runs(diff.a.runs)})`,
    `- **B** ${md(diff.b.label)} (${runs(diff.b.runs)})`,
    '',
    line(head),
    line(align),
    ...rows.map(line),
    '',
  ];
  const summary = regressionSummary(diff);
  out.push(summary ? `**${md(summary.replace(/^./, (c) => c.toUpperCase()))}**` : 'No regression beyond the thresholds.', '');
  const within = withinErrorLine(diff);
  if (within) out.push(md(within.replace(/^./, (c) => c.toUpperCase())), '');
  if (diff.why?.length) {
    out.push(`${h}# Why`, '');
    for (const w of diff.why) out.push(`- ${md(w.text)}`);
    out.push('');
  }
  if (diff.context.length > 0) {
    out.push(`${h}# Also different`, '');
    for (const c of diff.context) {
      const list = (values: string[]) => (values.length > 0 ? values.map(mdCode).join(', ') : 'none');
      out.push(`- **${md(c.what)}**${c.what === 'admission changes' ? ' (only on one side)' : ''}: A ${list(c.a)} · B ${list(c.b)}`);
    }
    out.push('');
  }
  for (const note of diff.notes ?? []) out.push(`> ${md(note)}`, '');
  return `${out.join('\n').trimEnd()}\n`;
}
