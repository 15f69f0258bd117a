import { EXIT } from '../exit-codes.js';
import { renderDiffJson, renderDiffMarkdown, renderDiffTable, regressionSummary, withinErrorLine } from '../report/diff.js';
import { diff } from '../analysis/diff.js';
import type { DiffOptions } from './option-tables.js';
import type { CommandContext } from './context.js';
import { loadFactSet } from './load-runset.js';
import { useColor } from './output.js';

/**
 * B against A, metric by metric. Exit 0, or EXIT.regression with
 * --fail-on-regression when a metric regressed (one line on stderr says which).
 */
export async function run(files: { a: string; b: string }, options: DiffOptions, ctx: CommandContext): Promise<number> {
  const format = options.output;
  const thresholds = options.thresholds;
  const cwd = ctx.cwd ?? process.cwd();
  const a = await loadFactSet(files.a, cwd);
  const b = await loadFactSet(files.b, cwd);
  // The file names are what the person typed: clearer headings than two equal run-set labels.
  const result = diff({ ...a, label: describe(files.a, a.label) }, { ...b, label: describe(files.b, b.label) }, { thresholds });
  const text =
    format === 'json'
      ? renderDiffJson(result)
      : format === 'markdown'
        ? renderDiffMarkdown(result)
        : renderDiffTable(result, { color: useColor(ctx.stdout, ctx.env), width: ctx.stdout.columns ?? 100 });
  ctx.stdout.write(text);
  const within = withinErrorLine(result);
  if (within && options.failOnRegression) ctx.stderr.write(`podtrace: warning: ${within}\n`);
  const summary = regressionSummary(result);
  if (options.failOnRegression && summary !== undefined) {
    ctx.stderr.write(`podtrace: ${summary}\n`);
    return EXIT.regression;
  }
  return EXIT.ok;
}

function describe(file: string, label: string): string {
  return label && label !== file ? `${file} · ${label}` : file;
}
