/**
 * Terminal styling for the renderers: plain text unless color is on, so
 * piped output and `--no-color` never carry escape codes.
 */
import { formatMs } from '../trace/format-ms.js';
import type { Component } from '../trace/types.js';
import type { TimeSource } from '../trace/event-time.js';

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

export type StyleName = keyof typeof CODES;

export type Painter = (style: StyleName, text: string) => string;

export function painter(color: boolean): Painter {
  if (!color) return (_style, text) => text;
  return (style, text) => (text === '' ? text : `\u001b[${CODES[style][0]}m${text}\u001b[${CODES[style][1]}m`);
}

export const COMPONENT_STYLE: Readonly<Record<Component, StyleName>> = {
  client: 'cyan',
  apiserver: 'blue',
  scheduler: 'magenta',
  'controller-manager': 'magenta',
  kubelet: 'green',
  runtime: 'yellow',
  node: 'gray',
  'kube-proxy': 'blue',
  dns: 'cyan',
};

/** Where a time came from and how fine it is, in a few characters. */
export const SOURCE_LABEL: Readonly<Record<TimeSource, string>> = {
  'event-name-ns': 'event name ns',
  'event-time-us': 'eventTime µs',
  'event-timestamp-s': 'event 1 s',
  'status-field-s': 'status 1 s',
  'condition-s': 'condition 1 s',
  'watch-observed': 'watch ms',
  'client-clock': 'client clock',
  'probe-clock': 'probe pod',
  span: 'component span',
  'bounded-by': 'bounded',
};

/** The kind of source, for a column that gives the precision beside it. */
export const SOURCE_KIND: Readonly<Record<TimeSource, string>> = {
  'event-name-ns': 'event name',
  'event-time-us': 'eventTime',
  'event-timestamp-s': 'event',
  'status-field-s': 'status',
  'condition-s': 'condition',
  'watch-observed': 'watch',
  'client-clock': 'client',
  'probe-clock': 'probe',
  span: 'span',
  'bounded-by': 'bounded',
};

/** A precision as "±1ns", "±1µs", "±1.0ms", "±1s", "±438ms". */
export function formatPrecision(ms: number): string {
  if (ms > 0 && ms < 0.001) return `±${Math.max(1, Math.round(ms * 1e6))}ns`;
  if (ms >= 1000 && ms % 1000 === 0) return `±${ms / 1000}s`;
  return `±${formatMs(ms)}`;
}

/** Display width of plain text (no escape codes); wide characters are not used by the renderers. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** Greedy word wrap of plain text; words longer than a line are cut. `indent` prefixes every line. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const room = Math.max(10, width - indent.length);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let w = word;
    while (w.length > room) {
      if (line) lines.push(line);
      lines.push(w.slice(0, room));
      w = w.slice(room);
      line = '';
    }
    if (!line) line = w;
    else if (line.length + 1 + w.length <= room) line += ` ${w}`;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l);
}
