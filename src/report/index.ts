/** Renderers: Trace in, string out. Only commands write anything anywhere. */
export { renderTable, type TableOptions } from './table.js';
export { renderWaterfall, type WaterfallOptions } from './waterfall.js';
export { renderJson, renderYaml, TRACE_KEY_ORDER } from './serialize.js';
export { renderReport, REPORT_FORMATS, type ReportFormat, type ReportOptions } from './render-report.js';
export {
  aggregate,
  aggregateSet,
  describeOutcomes,
  metricValues,
  renderReportJson,
  REPORT_KIND,
  REPORT_SCHEMA_VERSION,
  type ReportAggregate,
  type SetAggregate,
} from './aggregate.js';
export { renderReportTable, type ReportTableOptions } from './report-table.js';
export { renderCsv, csvField, CSV_COLUMNS } from './csv.js';
export { renderMarkdown } from './markdown.js';
export { renderHtml, escapeHtml, type HtmlReportInput } from './html.js';
export { chromeTrace, renderChromeTrace, COMPONENT_TID, type ChromeTrace, type TraceEvent } from './chrome-trace.js';
export { otlpTraces, renderOtlp, traceIdOf, unixNanos, ROOT_SPAN_NAME, type OtlpTraces, type OtlpSpan } from './otlp.js';
