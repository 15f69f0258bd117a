/**
 * GitHub-flavoured Markdown for a pull-request comment: one compact table
 * per set (metric, n, median, p90, p99) and, for two sets, the diff table.
 */
import { formatMs } from '../trace/format-ms.js';
import { METRICS } from '../analysis/metrics.js';
import { AFTER_READY_HEAD, afterReadyCells, describeCauses, describeExplain, describeOutcomes, type ReportAggregate } from './aggregate.js';
import { renderDiffMarkdown } from './diff.js';

const LABELS = new Map(METRICS.map((m) => [m.name, m.label]));

/** Text that cannot break a table cell or start markup. */
export function mdCell(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`)
    .trim();
}

function table(head: string[], align: ReadonlyArray<'l' | 'r'>, rows: string[][]): string[] {
  const rule = align.map((a) => (a === 'r' ? '---:' : ':---'));
  return [head, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`);
}

export function signedMs(ms: number): string {
  return ms > 0 ? `+${formatMs(ms)}` : formatMs(ms);
}

export function signedPct(pct: number): string {
  const rounded = Math.abs(pct) < 10 ? pct.toFixed(1) : pct.toFixed(0);
  return `${pct > 0 ? '+' : ''}${rounded}%`;
}

export function renderMarkdown(report: ReportAggregate): string {
  const lines: string[] = ['## podtrace report', ''];
  for (const set of report.sets) {
    lines.push(`### ${mdCell(set.label)}`, '');
    lines.push(`${set.runs} run${set.runs === 1 ? '' : 's'}: ${mdCell(describeOutcomes(set.outcomes))}`, '');
    const causes = describeCauses(set.causes);
    if (causes) lines.push(`Causes: ${mdCell(causes)}`, '');
    const explain = describeExplain(set);
    if (explain) lines.push(mdCell(explain.replace(/^where/, 'Where')), '');
    const names = Object.keys(set.metrics);
    if (names.length === 0) {
      lines.push('_no metric could be measured_', '');
      continue;
    }
    const label = (name: string) => `\`${name}\` ${mdCell(LABELS.get(name) ?? '')}`.trim();
    // One run: its values; quantiles of one value would only repeat it.
    const rows =
      set.runs === 1
        ? table(['metric', 'value'], ['l', 'r'], names.map((name) => [label(name), formatMs(set.metrics[name]!.median)]))
        : table(
            ['metric', 'n', 'median', 'p90', 'p99'],
            ['l', 'r', 'r', 'r', 'r'],
            names.map((name) => {
              const s = set.metrics[name]!;
              return [label(name), String(s.n), formatMs(s.median), formatMs(s.p90), formatMs(s.p99)];
            }),
          );
    lines.push(...rows, '');
    if (set.afterReady) {
      lines.push('After Ready (`--observe`):', '');
      lines.push(...table(AFTER_READY_HEAD, ['r', 'l', 'r', 'l', 'r', 'r', 'r'], set.afterReady.map((a) => afterReadyCells(a).map(mdCell))), '');
    }
  }
  // The diff as `podtrace diff -o markdown` writes it, one heading level down.
  if (report.diff) lines.push(renderDiffMarkdown(report.diff, { headingLevel: 3 }).trimEnd(), '');
  return `${lines.join('\n').trimEnd()}\n`;
}
