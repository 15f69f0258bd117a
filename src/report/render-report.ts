/**
 * `podtrace report`'s formats, one entry point: run sets in, a string out.
 * The diff of two sets is computed by the caller (it has the options) and
 * passed in, so this stays a pure function of its arguments.
 */
import type { TraceDiff } from '../analysis/diff-types.js';
import type { RunSet } from '../analysis/runset.js';
import type { FactSet } from '../analysis/run-facts.js';
import { aggregate, renderReportJson } from './aggregate.js';
import { renderChromeTrace } from './chrome-trace.js';
import { renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderOtlp } from './otlp.js';
import { renderReportTable } from './report-table.js';

export { REPORT_FORMATS, type ReportFormat } from './formats.js';
import type { ReportFormat } from './formats.js';

export interface ReportOptions {
  toolVersion: string;
  /** table only */
  color?: boolean;
  /** table only: terminal columns */
  width?: number;
  /** B against A, when exactly two sets are given (json, markdown, html, table). */
  diff?: TraceDiff;
  /** table only: the diff as text, as the diff command prints it. */
  diffText?: string;
}

/** table, json and markdown: aggregates only, from whole run sets or from their runs' facts. */
export function renderAggregates(sets: ReadonlyArray<RunSet | FactSet>, format: 'table' | 'json' | 'markdown' | ReportFormat, options: ReportOptions): string {
  const report = aggregate(sets, options.diff);
  if (format === 'json') return renderReportJson(report);
  if (format === 'markdown') return renderMarkdown(report);
  if (format === 'table') return renderReportTable(report, { color: options.color ?? false, width: options.width ?? 100 }, options.diffText);
  throw new Error(`${format} needs the runs' traces, not their facts`);
}

export function renderReport(sets: readonly RunSet[], format: ReportFormat, options: ReportOptions): string {
  const report = () => aggregate(sets, options.diff);
  switch (format) {
    case 'table':
      return renderReportTable(report(), { color: options.color ?? false, width: options.width ?? 100 }, options.diffText);
    case 'json':
      return renderReportJson(report());
    case 'csv':
      return renderCsv(sets);
    case 'markdown':
      return renderMarkdown(report());
    case 'html':
      return renderHtml({ sets, report: report(), toolVersion: options.toolVersion });
    case 'chrome-trace':
      return renderChromeTrace(sets, options.toolVersion);
    case 'otlp':
      return renderOtlp(sets, options.toolVersion);
  }
}
