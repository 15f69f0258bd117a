/**
 * `podtrace report` in a terminal: per set, its runs and outcomes and a
 * table of the metrics' distribution.
 */
import Table from 'cli-table3';
import { formatMs } from '../trace/format-ms.js';
import { METRICS } from '../analysis/metrics.js';
import { afterReadyCells, describeCauses, describeExplain, describeOutcomes, type ReportAggregate, type SetAggregate } from './aggregate.js';
import { painter, truncate, wrap, type Painter } from './style.js';

export interface ReportTableOptions {
  color: boolean;
  width: number;
}

const LABELS = new Map(METRICS.map((m) => [m.name, m.label]));

function setTable(set: SetAggregate, paint: Painter, color: boolean, width: number): string {
  const runs = `${set.runs} run${set.runs === 1 ? '' : 's'}`;
  const outcomes = describeOutcomes(set.outcomes);
  const allReady = Object.keys(set.outcomes).every((c) => c === 'ready');
  const head = `${paint('bold', truncate(set.label, Math.max(10, width - runs.length - 3)))} · ${runs}`;
  const causes = describeCauses(set.causes);
  const explain = describeExplain(set);
  const lines = [
    head,
    paint(allReady ? 'green' : 'yellow', truncate(outcomes, width)),
    ...(causes ? [paint('yellow', truncate(`causes: ${causes}`, width))] : []),
    ...(explain ? wrap(explain, width) : []),
  ];
  const names = Object.keys(set.metrics);
  if (names.length === 0) return [...lines, paint('dim', '(no metric could be measured)')].join('\n');
  const withLabel = width >= 96;
  const single = set.runs === 1;
  // min and max go first when the terminal is narrow
  const wide = width >= 72;
  const stats = single ? ['value'] : ['n', 'median', 'p90', 'p99', ...(wide ? ['min', 'max'] : [])];
  const table = new Table({
    head: ['metric', ...(withLabel ? ['what'] : []), ...stats],
    colAligns: ['left', ...(withLabel ? (['left'] as const) : []), ...stats.map(() => 'right' as const)],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: color ? ['bold'] : [], border: color ? ['gray'] : [], 'padding-left': 1, 'padding-right': 1 },
  });
  for (const name of names) {
    const s = set.metrics[name]!;
    const values = single
      ? [formatMs(s.median)]
      : [String(s.n), formatMs(s.median), formatMs(s.p90), formatMs(s.p99), ...(wide ? [formatMs(s.min), formatMs(s.max)] : [])];
    table.push([name, ...(withLabel ? [LABELS.get(name) ?? ''] : []), ...values]);
  }
  const out = [...lines, withHeadRule(table.toString())];
  if (set.afterReady) {
    // One line per run, not a table: seven columns do not fit a narrow terminal.
    out.push('after Ready (--observe):');
    for (const a of set.afterReady) {
      const [run, pod, observed, restarts, probes, cpu, memory] = afterReadyCells(a);
      const line = `  run ${run} ${pod}: observed ${observed}, restarts ${restarts}, probe failures ${probes}, peak ${cpu} CPU, ${memory}`;
      out.push(paint(a.restarts > 0 ? 'yellow' : 'dim', truncate(line, width)));
    }
  }
  return out.join('\n');
}

/** cli-table3 rules every row or none: put one rule back under the heading only. */
function withHeadRule(rendered: string): string {
  const lines = rendered.split('\n');
  if (lines.length < 3) return rendered;
  const rule = lines[0]!.replace('┌', '├').replaceAll('┬', '┼').replace('┐', '┤');
  return [lines[0], lines[1], rule, ...lines.slice(2)].join('\n');
}

/**
 * The sets one after the other; `diffText` (two sets: the diff as the diff
 * command prints it) goes at the end.
 */
export function renderReportTable(report: ReportAggregate, options: ReportTableOptions, diffText?: string): string {
  const paint = painter(options.color);
  const width = Math.max(50, options.width);
  const sections = report.sets.map((s) => setTable(s, paint, options.color, width));
  if (diffText) sections.push(diffText.trimEnd());
  return `${sections.join('\n\n')}\n`;
}
