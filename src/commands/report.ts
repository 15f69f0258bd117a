import path from 'node:path';
import { FileWriteError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { renderDiffTable } from '../report/diff.js';
import { renderAggregates, renderReport, type ReportFormat } from '../report/render-report.js';
import { diff } from '../analysis/diff.js';
import type { TraceDiff } from '../analysis/diff-types.js';
import { describeViolations, describeWithinError, evaluateGates, failingGates } from '../analysis/gates.js';
import type { ReportOptions } from './option-tables.js';
import { formatFromPath } from './parse/formats.js';
import { splitByNode, type RunSet } from '../analysis/runset.js';
import { writeFileAtomic } from './atomic-write.js';
import type { CommandContext } from './context.js';
import { fileBytes, forEachRun, loadFactSet, loadRunSet, STREAM_ABOVE_BYTES } from './load-runset.js';
import { AtomicFileWriter } from './atomic-write.js';
import { aggregate, factValues } from '../report/aggregate.js';
import { ARTICLE_SEPARATOR, renderHtmlEnd, renderHtmlStart, renderRunArticle, renderSetRunsHeading } from '../report/html.js';
import { EnvironmentFacts } from '../report/run-facts.js';
import { CSV_HEADER, csvRunLines } from '../report/csv.js';
import { chromeTraceStream, runLeadUs } from '../report/chrome-trace.js';
import { otlpStream } from '../report/otlp.js';
import type { Component, Trace } from '../trace/types.js';
import type { FactSet } from '../analysis/run-facts.js';
import { useColor } from './output.js';
import { TOOL_VERSION } from './version.js';

/** A file's default label: its name without a .json extension. */
function fileLabel(file: string): string {
  return path.basename(file).replace(/\.json$/i, '');
}

/** Two inputs with the same label are told apart by the path as typed. */
function distinctLabels<S extends { label: string }>(sets: S[], files: readonly string[]): S[] {
  const counts = new Map<string, number>();
  for (const s of sets) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
  return sets.map((s, i) => {
    if (counts.get(s.label) === 1) return s;
    const file = files[i]!;
    return { ...s, label: s.label === fileLabel(file) ? file : `${file} (${s.label})` };
  });
}

/** Formats made of the sets' aggregates (and the diff) alone. */
const AGGREGATES_ONLY: ReadonlySet<ReportFormat> = new Set(['table', 'json', 'markdown']);

/** Formats that show the diff when two sets are given. */
const WITH_DIFF: ReadonlySet<ReportFormat> = new Set(['table', 'json', 'markdown', 'html']);

/**
 * Renders the files as one report. Exit 0, or EXIT.thresholdExceeded when a
 * --fail-on gate fails in any set (the report is written first; one line on
 * stderr says which gate, by how much).
 */
export async function run(files: string[], options: ReportOptions, ctx: CommandContext): Promise<number> {
  const format = options.output ?? (options.out !== undefined ? formatFromPath(options.out) : undefined) ?? 'table';
  const { gates, thresholds } = options;
  if (files.length === 0) throw new UsageError('give at least one trace or run set file (see podtrace report --help)');

  const cwd = ctx.cwd ?? process.cwd();
  if (isStreamed(format)) {
    let bytes = 0;
    for (const file of files) bytes += await fileBytes(file, cwd);
    if (bytes > STREAM_ABOVE_BYTES) {
      const streamed = await streamPerRun(format, files, options, ctx, cwd);
      if (streamed) return gateExit(streamed, gates, ctx);
    }
  }
  // the formats that show aggregates only read each run's facts, not its whole trace
  const factsOnly = AGGREGATES_ONLY.has(format);
  const loaded: Array<RunSet | FactSet> = [];
  for (const file of files) loaded.push(factsOnly ? await loadFactSet(file, cwd, fileLabel(file)) : await loadRunSet(file, cwd, fileLabel(file)));
  // a --per-node run set is one set per node: with two nodes, the report compares them as diff does
  const sets = distinctLabels(loaded, files).flatMap((set) => splitByNode(set));

  let traceDiff: TraceDiff | undefined;
  if (sets.length === 2 && WITH_DIFF.has(format)) traceDiff = diff(sets[0]!, sets[1]!, { thresholds });

  const toStdout = options.out === undefined;
  const color = toStdout && useColor(ctx.stdout, ctx.env);
  const width = toStdout ? (ctx.stdout.columns ?? 100) : 100;
  const renderOptions = {
    toolVersion: TOOL_VERSION,
    color,
    width,
    ...(traceDiff ? { diff: traceDiff } : {}),
    ...(traceDiff && format === 'table' ? { diffText: renderDiffTable(traceDiff, { color, width }) } : {}),
  };
  const text = factsOnly ? renderAggregates(sets, format, renderOptions) : renderReport(sets as RunSet[], format, renderOptions);
  const content = text.endsWith('\n') ? text : `${text}\n`;
  if (options.out !== undefined) {
    const target = path.resolve(cwd, options.out);
    try {
      await writeFileAtomic(target, content);
    } catch (error) {
      // Say the path as it was typed, not as resolved against the working directory.
      if (error instanceof FileWriteError) throw new FileWriteError(error.message.replace(target, options.out), { cause: error.cause });
      throw error;
    }
    ctx.stderr.write(`report saved to ${options.out}\n`);
  } else {
    ctx.stdout.write(content);
  }

  return gateExit(sets, gates, ctx);
}

function gateExit(sets: ReadonlyArray<RunSet | FactSet>, gates: ReportOptions['gates'], ctx: CommandContext): number {
  if (gates.length === 0) return EXIT.ok;
  const evaluated = sets.map((set) => ({ set, all: evaluateGates(set, gates) }));
  for (const { set, all } of evaluated) {
    const warning = describeWithinError(all);
    if (warning) ctx.stderr.write(`podtrace: ${sets.length > 1 ? `${set.label}: ` : ''}${warning}\n`);
  }
  const failures = evaluated.map(({ set, all }) => ({ set, violations: failingGates(all) })).filter((f) => f.violations.length > 0);
  if (failures.length === 0) return EXIT.ok;
  // One line: `threshold exceeded: ready 6.20s > 5s`, each set named when there are several.
  const line =
    sets.length === 1
      ? describeViolations(failures[0]!.violations)
      : `threshold exceeded: ${failures.map((f) => `${f.set.label}: ${describeViolations(f.violations).replace(/^threshold exceeded: /, '')}`).join('; ')}`;
  ctx.stderr.write(`podtrace: ${line}\n`);
  return EXIT.thresholdExceeded;
}

/** Formats written a run at a time for big run sets. */
type StreamedFormat = 'html' | 'csv' | 'chrome-trace' | 'otlp';
function isStreamed(format: ReportFormat): format is StreamedFormat {
  return format === 'html' || format === 'csv' || format === 'chrome-trace' || format === 'otlp';
}

/** A streamed report: its top, each run's part (its index in its set, and across the sets from 1), its end. */
interface ReportStream {
  start: string;
  run(set: FactSet, trace: Trace, indexInSet: number, runNumber: number): string;
  end: string;
}

/**
 * The html, csv, chrome-trace or otlp report of big run sets, never held whole: a first read of
 * each file keeps its runs' facts (and what the top of the report needs: the environment's facts
 * and the components seen for html, where the runs' POSTs line up for chrome-trace), the top is
 * written from them, then a second read writes each run's part (an html article, csv lines, trace
 * events, resource spans) as it comes. The text is the same as the whole-set renderers'. Undefined
 * (the caller renders it whole) for a --per-node set, whose runs are split by node.
 */
async function streamPerRun(format: StreamedFormat, files: string[], options: ReportOptions, ctx: CommandContext, cwd: string): Promise<FactSet[] | undefined> {
  const environment = new EnvironmentFacts();
  const components = new Set<Component>();
  let postTs = 0;
  const onTrace = (trace: Trace): void => {
    if (format === 'html') {
      environment.add(trace);
      for (const m of trace.milestones) components.add(m.component);
    } else if (format === 'chrome-trace') {
      postTs = Math.max(postTs, runLeadUs(trace));
    }
  };
  const loaded: FactSet[] = [];
  for (const file of files) loaded.push(await loadFactSet(file, cwd, fileLabel(file), { onTrace }));
  if (loaded.some((set) => set.groupBy === 'node')) return undefined;
  const sets = distinctLabels(loaded, files);
  const multipleSets = sets.length > 1;
  const stream = ((): ReportStream => {
    switch (format) {
      case 'html':
        return {
          start: renderHtmlStart({
            report: aggregate(sets, sets.length === 2 ? diff(sets[0]!, sets[1]!, { thresholds: options.thresholds }) : undefined),
            toolVersion: TOOL_VERSION,
            environment: environment.facts(),
            components,
            values: sets.map(factValues),
          }),
          run: (set, trace, j) => `${j > 0 ? ARTICLE_SEPARATOR : ''}${renderRunArticle(set.label, trace, j)}`,
          end: renderHtmlEnd(TOOL_VERSION),
        };
      case 'csv':
        return {
          start: `${CSV_HEADER}\n`,
          run: (set, trace, j) =>
            csvRunLines(set.label, trace, j)
              .map((line) => `${line}\n`)
              .join(''),
          end: '',
        };
      case 'chrome-trace':
        return {
          start: chromeTraceStream.start,
          run: (set, trace, _j, n) => chromeTraceStream.run(set, trace, n, postTs, multipleSets),
          end: chromeTraceStream.end(TOOL_VERSION, postTs),
        };
      case 'otlp':
        return {
          start: otlpStream.start,
          run: (set, trace, _j, n) => otlpStream.run(set, trace, TOOL_VERSION, n === 1),
          end: otlpStream.end,
        };
    }
  })();
  const out = options.out !== undefined ? new AtomicFileWriter(path.resolve(cwd, options.out)) : undefined;
  const write = (text: string): void => void (out ? out.write(text) : ctx.stdout.write(text));
  try {
    write(stream.start);
    let runNumber = 0;
    for (const [i, file] of files.entries()) {
      if (format === 'html') write(renderSetRunsHeading(sets[i]!.label, i));
      await forEachRun(file, cwd, (trace, j) => write(stream.run(sets[i]!, trace, j, ++runNumber)));
    }
    write(stream.end);
    out?.commit();
  } catch (error) {
    out?.abort();
    // Say the path as it was typed, not as resolved against the working directory.
    if (error instanceof FileWriteError && options.out !== undefined) throw new FileWriteError(error.message.replace(path.resolve(cwd, options.out), options.out), { cause: error.cause });
    throw error;
  }
  if (options.out !== undefined) ctx.stderr.write(`report saved to ${options.out}\n`);
  return sets;
}

