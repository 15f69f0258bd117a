/**
 * --spans in the terminal: the components' own spans of the run, nested as
 * their components reported them, each with its start (from the POST), its
 * duration and, where an event times the same moment, the difference.
 */
import Table from 'cli-table3';
import { formatMs, formatOffset } from '../trace/format-ms.js';
import type { Trace } from '../trace/types.js';
import { COMPONENT_STYLE, SOURCE_KIND, formatPrecision, truncate, wrap, type Painter } from './style.js';

export function renderSpanTable(trace: Trace, paint: Painter, width: number): string | undefined {
  const spans = trace.spans;
  if (!spans) return undefined;
  const waited = spans.waitedMs !== undefined ? `, read after waiting ${formatMs(spans.waitedMs)} for batched exports` : '';
  const head = paint('bold', truncate(`components' spans (${[spans.backend, formatPrecision(spans.resolutionMs)].filter(Boolean).join(', ')}${waited})`, width));
  const lines = [head];
  if (spans.steps.length > 0) {
    // the widths of the step table's first columns; the detail only where it fits
    const label = Math.min(42, Math.max(22, Math.floor(width * 0.32)));
    const detailWidth = width - (label + 10 + 10 + 12) - 6;
    const withDetail = detailWidth >= 14;
    const table = new Table({
      head: ['span', 'start', 'duration', 'emitted by', ...(withDetail ? ['detail'] : [])],
      colWidths: [label, 10, 10, 12, ...(withDetail ? [detailWidth] : [])],
      colAligns: ['left', 'right', 'right', 'left', 'left'].slice(0, withDetail ? 5 : 4) as Array<'left' | 'right'>,
      wordWrap: true,
      chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
      style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    });
    for (const s of spans.steps) {
      const also = s.alsoTimedBy
        ? `${s.alsoTimedBy.differenceMs >= 0 ? '+' : '−'}${formatMs(Math.abs(s.alsoTimedBy.differenceMs))} from the ${SOURCE_KIND[s.alsoTimedBy.source]} (${s.alsoTimedBy.milestone})`
        : undefined;
      const detail = [s.error ? `error: ${s.error}` : undefined, also, s.detail].filter(Boolean).join('; ');
      const row = [paint(COMPONENT_STYLE[s.component], `${'  '.repeat(s.depth)}${s.label}`), formatOffset(s.startOffsetMs), formatMs(s.durationMs), s.service];
      table.push(withDetail ? [...row, detail] : row);
    }
    lines.push(table.toString());
  }
  for (const note of spans.notes) lines.push(...wrap(`· ${note}`, width).map((l) => paint('dim', l)));
  return lines.join('\n');
}
