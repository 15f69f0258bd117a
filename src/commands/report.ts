import path from 'node:path';
import { FileWriteError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { renderDiffTable } from '../report/diff.js';
import { renderReport, REPORT_FORMATS, type ReportFormat } from '../report/render-report.js';
import { diff } from '../analysis/diff.js';
import type { TraceDiff } from '../analysis/diff-types.js';
import { describeViolations, evaluateGates, type Gate } from '../analysis/gates.js';
import { parseGates, parseThresholdRules } from './parse/rules.js';
import type { RunSet } from '../analysis/runset.js';
import { writeFileAtomic } from './atomic-write.js';
import type { CommandContext } from './context.js';
import { loadRunSet } from './load-runset.js';
import { useColor } from './output.js';
import { TOOL_VERSION } from './version.js';

export interface ReportFlags {
  /** Trace files or run set files; each one is an input set. */
  files: string[];
  /** -o; absent: from --out's extension, else table. */
  output?: string;
  out?: string;
  /** --fail-on values, as given (repeatable, comma-separated). */
  failOn: string[];
  /** --threshold values for the diff of two sets. */
  thresholds: string[];
}

const ALIASES: Readonly<Record<string, ReportFormat>> = { md: 'markdown', chrome: 'chrome-trace', perfetto: 'chrome-trace' };

export function parseReportFormat(text: string): ReportFormat {
  const lower = text.toLowerCase();
  const format = ALIASES[lower] ?? lower;
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

/** A file's default label: its name without a .json extension. */
function fileLabel(file: string): string {
  return path.basename(file).replace(/\.json$/i, '');
}

/** Two inputs with the same label are told apart by the path as typed. */
function distinctLabels(sets: RunSet[], files: readonly string[]): RunSet[] {
  const counts = new Map<string, number>();
  for (const s of sets) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
  return sets.map((s, i) => {
    if (counts.get(s.label) === 1) return s;
    const file = files[i]!;
    return { ...s, label: s.label === fileLabel(file) ? file : `${file} (${s.label})` };
  });
}

/** Formats that show the diff when two sets are given. */
const WITH_DIFF: ReadonlySet<ReportFormat> = new Set(['table', 'json', 'markdown', 'html']);

/**
 * Renders the files as one report. Exit 0, or EXIT.thresholdExceeded when a
 * --fail-on gate fails in any set (the report is written first; one line on
 * stderr says which gate, by how much).
 */
export async function run(flags: ReportFlags, ctx: CommandContext): Promise<number> {
  // Flags first: a typo must not wait for (or be hidden by) a file error.
  const format = flags.output !== undefined ? parseReportFormat(flags.output) : ((flags.out !== undefined ? formatFromPath(flags.out) : undefined) ?? 'table');
  const gates: Gate[] = parseGates(flags.failOn);
  const thresholds = parseThresholdRules(flags.thresholds);
  if (flags.files.length === 0) throw new UsageError('give at least one trace or run set file (see podtrace report --help)');

  const cwd = ctx.cwd ?? process.cwd();
  const loaded: RunSet[] = [];
  for (const file of flags.files) loaded.push(await loadRunSet(file, cwd, fileLabel(file)));
  const sets = distinctLabels(loaded, flags.files);

  let traceDiff: TraceDiff | undefined;
  if (sets.length === 2 && WITH_DIFF.has(format)) traceDiff = diff(sets[0]!, sets[1]!, { thresholds });

  const toStdout = flags.out === undefined;
  const color = toStdout && useColor(ctx.stdout, ctx.env);
  const width = toStdout ? (ctx.stdout.columns ?? 100) : 100;
  const text = renderReport(sets, format, {
    toolVersion: TOOL_VERSION,
    color,
    width,
    ...(traceDiff ? { diff: traceDiff } : {}),
    ...(traceDiff && format === 'table' ? { diffText: renderDiffTable(traceDiff, { color, width }) } : {}),
  });
  const content = text.endsWith('\n') ? text : `${text}\n`;
  if (flags.out !== undefined) {
    const target = path.resolve(cwd, flags.out);
    try {
      await writeFileAtomic(target, content);
    } catch (error) {
      // Say the path as it was typed, not as resolved against the working directory.
      if (error instanceof FileWriteError) throw new FileWriteError(error.message.replace(target, flags.out), { cause: error.cause });
      throw error;
    }
    ctx.stderr.write(`report saved to ${flags.out}\n`);
  } else {
    ctx.stdout.write(content);
  }

  if (gates.length === 0) return EXIT.ok;
  const failures = sets.map((set) => ({ set, violations: evaluateGates(set, gates) })).filter((f) => f.violations.length > 0);
  if (failures.length === 0) return EXIT.ok;
  // One line: `threshold exceeded: ready 6.20s > 5s`, each set named when there are several.
  const line =
    sets.length === 1
      ? describeViolations(failures[0]!.violations)
      : `threshold exceeded: ${failures.map((f) => `${f.set.label}: ${describeViolations(f.violations).replace(/^threshold exceeded: /, '')}`).join('; ')}`;
  ctx.stderr.write(`podtrace: ${line}\n`);
  return EXIT.thresholdExceeded;
}
