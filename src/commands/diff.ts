import { UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { renderDiffJson, renderDiffMarkdown, renderDiffTable, regressionSummary } from '../report/diff.js';
import { diff } from '../analysis/diff.js';
import { parseThresholdRules } from './parse/rules.js';
import type { CommandContext } from './context.js';
import { loadRunSet } from './load-runset.js';
import { useColor } from './output.js';

export interface DiffFlags {
  /** Baseline: a trace file or a run set file. */
  a: string;
  /** Candidate. */
  b: string;
  /** `--threshold` values, as given. */
  thresholds: string[];
  failOnRegression: boolean;
  output: string;
}

export type DiffFormat = 'table' | 'json' | 'markdown';
export const DIFF_FORMATS: readonly DiffFormat[] = ['table', 'json', 'markdown'];

export function parseDiffFormat(text: string): DiffFormat {
  const format = text.toLowerCase() === 'md' ? 'markdown' : text.toLowerCase();
  if ((DIFF_FORMATS as readonly string[]).includes(format)) return format as DiffFormat;
  throw new UsageError(`-o ${text}: unknown output format for diff; use one of ${DIFF_FORMATS.join(', ')}`);
}

/**
 * B against A, metric by metric. Exit 0, or EXIT.regression with
 * --fail-on-regression when a metric regressed (one line on stderr says which).
 */
export async function run(flags: DiffFlags, ctx: CommandContext): Promise<number> {
  // Flags first: a typo must not wait for (or be hidden by) a file error.
  const format = parseDiffFormat(flags.output);
  const thresholds = parseThresholdRules(flags.thresholds);
  const cwd = ctx.cwd ?? process.cwd();
  const a = await loadRunSet(flags.a, cwd);
  const b = await loadRunSet(flags.b, cwd);
  // The file names are what the person typed: clearer headings than two equal run-set labels.
  const result = diff({ ...a, label: describe(flags.a, a.label) }, { ...b, label: describe(flags.b, b.label) }, { thresholds });
  const text =
    format === 'json'
      ? renderDiffJson(result)
      : format === 'markdown'
        ? renderDiffMarkdown(result)
        : renderDiffTable(result, { color: useColor(ctx.stdout, ctx.env), width: ctx.stdout.columns ?? 100 });
  ctx.stdout.write(text);
  const summary = regressionSummary(result);
  if (flags.failOnRegression && summary !== undefined) {
    ctx.stderr.write(`podtrace: ${summary}\n`);
    return EXIT.regression;
  }
  return EXIT.ok;
}

function describe(file: string, label: string): string {
  return label && label !== file ? `${file} · ${label}` : file;
}
