/**
 * The terminal waterfall: one bar per phase on a shared time axis, so the
 * slow step is visible at a glance. Eighth-block characters give sub-cell
 * resolution; a zero-length phase still gets a thin tick.
 */
import { formatMs, formatOffset } from '../trace/format-ms.js';
import type { Phase, Trace } from '../trace/types.js';
import { COMPONENT_STYLE, painter, truncate } from './style.js';

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const FULL = '█';

export interface WaterfallOptions {
  color: boolean;
  width: number;
}

function bar(startCell: number, lengthCells: number, width: number): string {
  const eighths = Math.round(lengthCells * 8);
  // a zero-length phase at the very end of the span still gets its tick in the last cell
  const lead = ' '.repeat(Math.max(0, Math.min(Math.floor(startCell), eighths <= 0 ? width - 1 : width)));
  if (eighths <= 0) return `${lead}▏`;
  return lead + FULL.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

/**
 * The label of the milestone a step ends at, as in the table; a reported
 * duration says who measured it. Container rows drop their "container "
 * prefix when the label would not fit, so the step survives truncation.
 */
function rowLabel(p: Phase, labels: ReadonlyMap<string, string>, width: number): string {
  const label =
    p.kind === 'reported'
      ? p.container !== undefined
        ? `container ${p.container}: image pull (kubelet)`
        : p.label.replace(/ \(client-measured\)$/, ' (client)')
      : (labels.get(p.to ?? '') ?? p.to ?? p.id);
  if (label.length <= width || p.container === undefined) return label;
  return label.replace(/^(?:init container|container|sidecar) /, '');
}

export function renderWaterfall(trace: Trace, options: WaterfallOptions): string {
  const paint = painter(options.color);
  const phases = trace.phases;
  if (phases.length === 0) return paint('dim', '(no phases yet)');

  const width = Math.max(40, options.width);
  const durWidth = 8;
  const labelWidth = Math.min(36, Math.max(16, Math.floor(width * 0.3)));
  const barWidth = Math.max(10, width - labelWidth - durWidth - 3);

  const start = Math.min(0, ...phases.map((p) => p.startOffsetMs));
  const end = Math.max(...phases.map((p) => p.startOffsetMs + p.durationMs), start + 1);
  const span = end - start;
  const cell = (ms: number) => ((ms - start) / span) * barWidth;

  const labels = new Map(trace.milestones.map((m) => [m.id, m.label]));
  const lines = phases.map((p) => {
    const label = truncate(rowLabel(p, labels, labelWidth), labelWidth).padEnd(labelWidth);
    let b = bar(cell(p.startOffsetMs), (p.durationMs / span) * barWidth, barWidth);
    if (b.length > barWidth) b = b.slice(0, barWidth);
    const styled = p.clamped ? paint('red', b) : paint(p.kind === 'reported' ? 'dim' : COMPONENT_STYLE[p.component ?? 'node'], b);
    const duration = `${p.clamped ? '!' : ''}${formatMs(p.durationMs)}`.padStart(durWidth);
    return `${label} ${styled}${' '.repeat(Math.max(0, barWidth - b.length))} ${duration}`;
  });

  // Axis: where t0 (the POST) is, and the span's ends.
  const zero = Math.min(barWidth - 1, Math.max(0, Math.round(cell(0))));
  const axis = Array.from({ length: barWidth }, (_, i) => (i === zero ? '┬' : '─')).join('');
  const left = formatOffset(start);
  const right = formatOffset(end);
  const legend = `${left}${' '.repeat(Math.max(1, barWidth - left.length - right.length))}${right}`;
  lines.push(`${' '.repeat(labelWidth)} ${paint('gray', axis)}`);
  const t0 = trace.run.t0Source === 'pod-created' ? 't0 = pod created' : trace.run.t0Source === 'first-seen' ? 't0 = pod first seen' : 't0 = POST sent';
  lines.push(`${truncate(t0, labelWidth).padEnd(labelWidth)} ${paint('gray', legend)}`);
  return lines.join('\n');
}


