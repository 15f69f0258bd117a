/** Every -o of every command, and the format `--out FILE` implies for a report. */
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { REPORT_FORMATS, type ReportFormat } from '../../report/formats.js';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

export function parseOutputFormat(text: string): OutputFormat {
  const format = text.toLowerCase();
  if ((OUTPUT_FORMATS as readonly string[]).includes(format)) return format as OutputFormat;
  throw new UsageError(`-o ${text}: unknown output format; use one of ${OUTPUT_FORMATS.join(', ')}`);
}

const REPORT_ALIASES: Readonly<Record<string, ReportFormat>> = { md: 'markdown', chrome: 'chrome-trace', perfetto: 'chrome-trace' };

export function parseReportFormat(text: string): ReportFormat {
  const lower = text.toLowerCase();
  const format = REPORT_ALIASES[lower] ?? lower;
  if ((REPORT_FORMATS as readonly string[]).includes(format)) return format as ReportFormat;
  throw new UsageError(`-o ${text}: unknown report format; use one of ${REPORT_FORMATS.join(', ')}`);
}

const BY_EXTENSION: Readonly<Record<string, ReportFormat>> = {
  '.html': 'html',
  '.htm': 'html',
  '.csv': 'csv',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.json': 'json',
};

/** The format `--out FILE` implies when -o is not given: report.html is html. */
export function formatFromPath(file: string): ReportFormat | undefined {
  return BY_EXTENSION[path.extname(file).toLowerCase()];
}

export type DiffFormat = 'table' | 'json' | 'markdown';
export const DIFF_FORMATS: readonly DiffFormat[] = ['table', 'json', 'markdown'];

export function parseDiffFormat(text: string): DiffFormat {
  const format = text.toLowerCase() === 'md' ? 'markdown' : text.toLowerCase();
  if ((DIFF_FORMATS as readonly string[]).includes(format)) return format as DiffFormat;
  throw new UsageError(`-o ${text}: unknown output format for diff; use one of ${DIFF_FORMATS.join(', ')}`);
}

export type DoctorFormat = 'table' | 'json';
export const DOCTOR_FORMATS: readonly DoctorFormat[] = ['table', 'json'];

export function parseDoctorFormat(text: string): DoctorFormat {
  const format = text.toLowerCase();
  if ((DOCTOR_FORMATS as readonly string[]).includes(format)) return format as DoctorFormat;
  throw new UsageError(`-o ${text}: unknown output format for doctor; use one of ${DOCTOR_FORMATS.join(', ')}`);
}
