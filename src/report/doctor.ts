/**
 * `podtrace doctor`'s output: the checks (status, what was found, the change),
 * the precision each step will get, the components' figures, and the
 * verdict; or the report as JSON. Pure.
 */
import Table from 'cli-table3';
import type { CheckStatus, DoctorReport, FigurePlan, StepPrecision } from '../analysis/doctor-types.js';
import type { SourceRef } from '../trace/step-sources.js';
import { COMPONENT_STYLE, SOURCE_KIND, formatPrecision, painter, wrap, type Painter, type StyleName } from './style.js';

export interface DoctorTableOptions {
  color: boolean;
  width: number;
}

const STATUS_STYLE: Readonly<Record<CheckStatus, StyleName>> = { ok: 'green', improve: 'yellow', unknown: 'yellow', info: 'gray' };

export function sourceLabel(ref: SourceRef): string {
  if (ref === 'span:apiserver') return 'API server span';
  if (ref === 'span:kubelet') return 'kubelet span';
  return SOURCE_KIND[ref];
}

function precisionText(step: StepPrecision): string {
  if (step.measuredPerRun) return 'measured each run';
  return step.precisionMs === undefined ? '' : formatPrecision(step.precisionMs);
}

function checkLines(report: DoctorReport, paint: Painter, width: number): string[] {
  const titleWidth = Math.max(...report.checks.map((c) => c.title.length));
  const indent = ' '.repeat(2 + 7 + 1 + titleWidth + 2);
  const lines: string[] = [];
  for (const check of report.checks) {
    const head = `  ${paint(STATUS_STYLE[check.status], check.status.padEnd(7))} ${check.title.padEnd(titleWidth)}  `;
    const found = wrap(check.found, width, indent);
    lines.push(head + (found[0] ?? '').slice(indent.length), ...found.slice(1));
    if (check.change) lines.push(...wrap(`→ ${check.change}`, width, indent).map((l) => paint('bold', l)));
  }
  return lines;
}

function stepTable(steps: readonly StepPrecision[], paint: Painter, color: boolean, width: number): string {
  const rows = steps.map((s) => [
    paint(COMPONENT_STYLE[s.component], s.label),
    s.source ? sourceLabel(s.source) : paint('dim', 'none: left out'),
    precisionText(s),
    [s.better ? sourceLabel(s.better.source) : '', s.note ?? ''].filter(Boolean).join('; '),
  ]);
  // four columns and their five borders fit the width: the step's label wraps first
  const fixed = [17, 19];
  const label = Math.min(40, Math.max(...steps.map((s) => s.label.length)) + 2, width - fixed[0]! - fixed[1]! - 5 - 18);
  const better = width - label - fixed[0]! - fixed[1]! - 5;
  const table = new Table({
    head: ['step', 'timed from here', 'precision', 'better with'],
    colWidths: [label, fixed[0]!, fixed[1]!, better],
    wordWrap: true,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: color ? ['bold'] : [], border: color ? ['gray'] : [], 'padding-left': 1, 'padding-right': 1 },
  });
  for (const row of rows) table.push(row);
  return table.toString();
}

const FIGURE_TEXT: Readonly<Record<FigurePlan['status'], string>> = {
  'exact-when-quiet': "the pod's own when nothing else ran between the readings, else shown as shared",
  'no-series': 'no series yet (no such operation since the component started)',
  'not-readable': 'not readable',
};

function figureLines(figures: readonly FigurePlan[], width: number): string[] {
  const groups = new Map<string, string[]>();
  for (const f of figures) {
    const key = `${f.from === 'apiserver' ? 'API server' : 'kubelet'}: ${FIGURE_TEXT[f.status]}`;
    groups.set(key, [...(groups.get(key) ?? []), f.label]);
  }
  return [...groups].flatMap(([key, labels]) => wrap(`${key}: ${labels.join('; ')}`, width, '  '));
}

export function renderDoctorTable(report: DoctorReport, options: DoctorTableOptions): string {
  const paint = painter(options.color);
  const width = Math.max(60, options.width);
  const c = report.cluster;
  const improve = report.checks.filter((x) => x.status === 'improve' || x.status === 'unknown').length;
  const sections = [
    wrap(`podtrace ${report.toolVersion} doctor · context ${c.context}${c.version ? ` (${c.version})` : ''} · namespace ${c.namespace}`, width)
      .map((l) => paint('bold', l))
      .join('\n'),
    checkLines(report, paint, width).join('\n'),
    [
      paint('bold', 'the precision each step of a pod start will get here'),
      stepTable(report.steps, paint, options.color, width),
      ...wrap(
        "measured each run: a watch sighting is bounded by the slowest watch delivery the run measures (its stamped events and the pod's ADDED; the trace's clock.delivery)",
        width,
      ).map((l) => paint('dim', l)),
    ].join('\n'),
    [paint('bold', "the components' own figures from /metrics (the trace's metrics section)"), ...figureLines(report.figures, width)].join('\n'),
    report.verdict === 'ok'
      ? paint('green', `✔ all good: every source podtrace reads is there (exit ${report.exitCode})`)
      : paint('yellow', `${improve} to improve or check: each says the change above (exit ${report.exitCode})`),
  ];
  return `${sections.join('\n\n')}\n`;
}

export function renderDoctorJson(report: DoctorReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
