/**
 * The components' metrics in the terminal: each figure their histograms gave
 * for the run, exact (this pod's operations alone moved the count) or shared
 * (with how many others), and what could not be read.
 */
import { formatMs } from '../trace/format-ms.js';
import type { Trace } from '../trace/types.js';
import { truncate, wrap, type Painter } from './style.js';

export function metricLines(trace: Trace, paint: Painter, width: number): string[] {
  const m = trace.metrics;
  if (!m) return [];
  const out = [paint('bold', truncate("components' metrics (histogram sums and counts, before and after)", width))];
  for (const s of m.steps) {
    const figure = s.exact
      ? `${formatMs(s.durationMs!)}${s.count > 1 ? ` for ${s.count}` : ''}`
      : `shared with ${s.sharedWith} other operation${s.sharedWith === 1 ? '' : 's'} (${formatMs(s.sumMs)} for ${s.count})`;
    // continuation lines indented under the label
    for (const line of wrap(`${s.label}: ${figure}`, width - 2, '  ').map((l, i) => (i === 0 ? l : `  ${l}`))) {
      out.push(s.exact ? line : paint('dim', line));
    }
  }
  for (const note of m.notes) out.push(...wrap(`· ${note}`, width).map((l) => paint('dim', l)));
  return out;
}
