/**
 * `--threshold`: how much a metric's median may change before diff calls it a regression or an
 * improvement. Apart from diff itself, so that parsing the flag (which every command line does)
 * does not load the comparison.
 */
import { METRIC_NAMES } from './metrics.js';
import { parseDuration } from './duration.js';
import { RuleSyntaxError } from './rule-error.js';

export interface ThresholdRule {
  /** Percent of median(A). */
  pct?: number;
  ms?: number;
  /** As written: '10%', '10% and 50ms', 'pull=1s'. */
  text: string;
}

export interface Thresholds {
  /** For every metric without its own rule. */
  default: ThresholdRule;
  perMetric: Readonly<Record<string, ThresholdRule>>;
}

/**
 * Without --threshold: beyond 10% AND beyond 50 ms. The percentage alone
 * calls a 2 ms wobble of a 7 ms API round trip a regression whenever a few
 * runs happen to separate (4 cold vs 4 warm runs on the local cluster did
 * exactly that); 50 ms is well under anything a person notices in a pod start.
 */
export const DEFAULT_THRESHOLD: ThresholdRule = { pct: 10, ms: 50, text: '10% and 50ms' };
export const DEFAULT_THRESHOLDS: Thresholds = { default: DEFAULT_THRESHOLD, perMetric: {} };

function parseLimit(text: string, flag: string, whole: string): { pct?: number; ms?: number } {
  const trimmed = text.trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(trimmed);
  if (pct) return { pct: Number(pct[1]) };
  const ms = parseDuration(trimmed);
  if (ms !== undefined) return { ms };
  throw new RuleSyntaxError(`${flag} ${JSON.stringify(whole)}: "${trimmed}" is neither a percentage (10%) nor a duration (200ms, 1s)`);
}

function merge(into: { pct?: number; ms?: number }, add: { pct?: number; ms?: number }, flag: string, what: string): void {
  if (add.pct !== undefined) {
    if (into.pct !== undefined) throw new RuleSyntaxError(`${flag}: two percentages for ${what}; give one (a percentage and a duration may be combined)`);
    into.pct = add.pct;
  }
  if (add.ms !== undefined) {
    if (into.ms !== undefined) throw new RuleSyntaxError(`${flag}: two durations for ${what}; give one (a percentage and a duration may be combined)`);
    into.ms = add.ms;
  }
}

function ruleText(prefix: string, written: readonly string[]): string {
  return `${prefix}${written.join(' and ')}`;
}

/**
 * `--threshold` values (repeatable): a global one, `10%` or `200ms` (both may
 * be given: a change must then exceed both), and per metric, `pull=1s`,
 * `ready=5%`, which replace the global rule for that metric. Several values
 * may share one flag, comma-separated. No global value given: DEFAULT_THRESHOLD.
 */
export function parseThresholds(specs: readonly string[], flag = '--threshold'): Thresholds {
  const global: { pct?: number; ms?: number } = {};
  const globalWritten: string[] = [];
  const perMetric: Record<string, { pct?: number; ms?: number }> = {};
  const perWritten: Record<string, string[]> = {};
  for (const spec of specs.flatMap((s) => s.split(',')).map((s) => s.trim())) {
    if (spec === '') continue;
    const eq = spec.indexOf('=');
    if (eq === -1) {
      merge(global, parseLimit(spec, flag, spec), flag, 'all metrics');
      globalWritten.push(spec);
      continue;
    }
    const metric = spec.slice(0, eq).trim().toLowerCase();
    if (!METRIC_NAMES.includes(metric)) {
      throw new RuleSyntaxError(`${flag} ${JSON.stringify(spec)}: unknown metric "${spec.slice(0, eq).trim()}"; use one of ${METRIC_NAMES.join(', ')}`);
    }
    const limit = parseLimit(spec.slice(eq + 1), flag, spec);
    perMetric[metric] ??= {};
    merge(perMetric[metric], limit, flag, metric);
    (perWritten[metric] ??= []).push(spec.slice(eq + 1).trim());
  }
  const rules: Record<string, ThresholdRule> = {};
  for (const [metric, rule] of Object.entries(perMetric)) rules[metric] = { ...rule, text: ruleText(`${metric}=`, perWritten[metric]!) };
  return {
    default: globalWritten.length > 0 ? { ...global, text: ruleText('', globalWritten) } : DEFAULT_THRESHOLD,
    perMetric: rules,
  };
}

export function thresholdFor(thresholds: Thresholds, metric: string): ThresholdRule {
  return thresholds.perMetric[metric] ?? thresholds.default;
}

/** The change, in ms, a rule lets through for a baseline median: the largest of its parts. */
export function allowedChangeMs(rule: ThresholdRule, baselineMs: number): number {
  return Math.max(rule.pct !== undefined ? (Math.abs(baselineMs) * rule.pct) / 100 : 0, rule.ms ?? 0);
}
