/**
 * Output of `podtrace create --runs N`: one line per run as it ends, then a
 * summary table over the runs (per METRICS value: n, median, p90, p99, min,
 * max), or the run set itself as JSON/YAML. Strings only.
 */
import Table from 'cli-table3';
import { stringify } from 'yaml';
import { formatMs } from '../trace/format-ms.js';
import { METRICS } from '../analysis/metrics.js';
import { digestRun, RunDigests } from '../analysis/runset-digest.js';
import type { RunSet } from '../analysis/runset.js';
import { summarize } from '../analysis/stats.js';
import type { Trace } from '../trace/types.js';
import { orderedTrace } from './serialize.js';
import { painter, truncate } from './style.js';

export interface RunSetSummaryOptions {
  color: boolean;
  width: number;
}

function pullText(trace: Trace): string {
  return trace.containers
    .map((c) => {
      if (c.pull === 'pulled') {
        const size = c.imageSizeBytes !== undefined ? `, ${(c.imageSizeBytes / 1e6).toFixed(1)} MB` : '';
        return `${c.image} pulled${c.pullMs !== undefined ? ` in ${formatMs(c.pullMs)}` : ''}${size}`;
      }
      return c.pull === 'present' ? `${c.image} present` : `${c.image}: pull ${c.pull}`;
    })
    .join(', ');
}

/** `run 2/3: ready after 3.93s · nginx pulled in 2.90s, 58.0 MB · podtrace-nginx-x7k2p` */
export function runLine(trace: Trace, index: number, runs: number): string {
  const o = trace.outcome;
  const outcome =
    o.class === 'ready' ? `ready after ${formatMs(o.readyAfterMs ?? 0)}` : `${o.class}${o.reason ? ` (${o.reason})` : ''}`;
  return [`run ${index + 1}/${runs}: ${outcome}`, pullText(trace), trace.pod.name].filter(Boolean).join(' · ');
}

function count<T extends string>(values: T[]): string {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}

export function renderRunSetSummary(set: RunSet, options: RunSetSummaryOptions): string {
  return renderDigestSummary(set.label, RunDigests.of(set.runs.map(digestRun)), options);
}

/** The summary from each run's digest (analysis/runset-digest.ts): what `podtrace watch` keeps of the pods it traced. */
export function renderDigestSummary(label: string, runs: RunDigests, options: RunSetSummaryOptions): string {
  const paint = painter(options.color);
  const width = Math.max(50, options.width);
  const table = new Table({
    head: ['metric', 'n', 'median', 'p90', 'p99', 'min', 'max'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: options.color ? ['bold'] : [], border: options.color ? ['gray'] : [], 'padding-left': 1, 'padding-right': 1 },
  });
  for (const m of METRICS) {
    const s = summarize(runs.metricValues(m.name));
    if (!s) continue;
    table.push([m.name, String(s.n), formatMs(s.median), formatMs(s.p90), formatMs(s.p99), formatMs(s.min), formatMs(s.max)]);
  }
  const rendered = table.toString().split('\n');
  const rule = rendered[0]!.replace('┌', '├').replaceAll('┬', '┼').replace('┐', '┤');
  const head = `${paint('bold', truncate(label, width - 20))} · ${runs.length} run${runs.length === 1 ? '' : 's'}`;
  const lines = [head, `outcomes: ${count(runs.outcomes())}`, `images: ${count(runs.pulls())}`];
  return `${lines.join('\n')}\n\n${[rendered[0], rendered[1], rule, ...rendered.slice(2)].join('\n')}\n${paint('dim', 'medians over the runs that reached each step; --fail-on gates the median (METRIC.p90>… for another statistic)')}\n`;
}

const RUNSET_KEY_ORDER = ['kind', 'schemaVersion', 'tool', 'toolVersion', 'label', 'createdAt', 'runs'] as const;

/** The run set with its keys, and each trace's, in schema order. */
function ordered(set: RunSet): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of RUNSET_KEY_ORDER) out[key] = key === 'runs' ? set.runs.map(orderedTrace) : set[key];
  for (const [key, value] of Object.entries(set)) if (!(key in out)) out[key] = value;
  return out;
}

export function renderRunSetJson(set: RunSet): string {
  return `${JSON.stringify(ordered(set), null, 2)}\n`;
}

export function renderRunSetYaml(set: RunSet): string {
  return stringify(ordered(set), { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * renderRunSetYaml() in pieces, for a run set read back one run at a time: the keys before the
 * runs, then each run as an item of the list. Their concatenation is renderRunSetYaml()'s text.
 */
export function renderRunSetYamlHead(set: Omit<RunSet, 'runs' | 'groupBy'>): string {
  const head = stringify(ordered({ ...set, runs: [] }), { lineWidth: 0, aliasDuplicateObjects: false });
  return head.replace(/^runs: \[\]\n/m, 'runs:\n');
}

/** One run (a trace, its keys already in schema order) as an item of the runs list. */
export function renderRunYamlItem(run: unknown): string {
  const item = stringify([run], { lineWidth: 0, aliasDuplicateObjects: false });
  return item.replace(/^(?=.)/gm, '  ');
}

