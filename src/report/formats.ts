/** `podtrace report`'s formats: apart from their renderers, so that parsing `-o` loads none of them. */
export const REPORT_FORMATS = ['table', 'json', 'csv', 'markdown', 'html', 'chrome-trace', 'otlp'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
