/**
 * `podtrace probe`'s metrics, kept in memory and written as OpenMetrics text: a histogram per
 * named metric (analysis/metrics.ts) labelled by node and image, with an exemplar on each bucket
 * linking it to the trace id of the latest run that landed there; a counter of runs per outcome
 * class; the last run's outcome as a gauge; the rounds that started late. Bounded: the node label
 * takes at most MAX_NODES distinct values (the rest are "other"), the image label only the probe's
 * own images, the outcome label only the outcome classes (and the few errors that end a round
 * before any trace). Pure: runs in, text out.
 */
import { METRICS, traceMetrics } from '../analysis/metrics.js';
import type { Trace } from '../trace/types.js';

/** Seconds: from a fast warm start to a slow cold pull. */
export const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300];
export const MAX_NODES = 50;
const OTHER = 'other';

interface Exemplar {
  traceId: string;
  value: number;
  /** Unix seconds. */
  at: number;
}

interface Series {
  labels: { node: string; image: string };
  counts: number[];
  count: number;
  sum: number;
  exemplars: Array<Exemplar | undefined>;
}

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${escape(v)}"`)
    .join(',');
}

/** A bucket bound as OpenMetrics writes floats: 1.0, 0.05. */
function le(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

function num(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Math.round(x * 1e6) / 1e6);
}

export class ProbeMetrics {
  readonly #series = new Map<string, Map<string, Series>>();
  readonly #outcomes = new Map<string, number>();
  readonly #nodes = new Set<string>();
  readonly #images: ReadonlySet<string>;
  #last: string | undefined;
  #rounds = 0;
  #delayed = 0;
  #delaySeconds = 0;

  /** `images`: the probe's own images, the only values of the image label. */
  constructor(images: readonly string[]) {
    this.#images = new Set(images);
  }

  #node(name: string | undefined): string {
    if (name === undefined || name === '') return 'none';
    if (this.#nodes.has(name)) return name;
    if (this.#nodes.size >= MAX_NODES) return OTHER;
    this.#nodes.add(name);
    return name;
  }

  /** One finished run: its metrics into the histograms, its outcome counted and kept as the last. */
  addRun(trace: Trace, now: number): void {
    const node = this.#node(trace.node?.name ?? trace.pod.nodeName);
    const first = trace.pod.images[0] ?? '';
    const image = this.#images.has(first) ? first : OTHER;
    const traceId = trace.run.otel?.traceId;
    for (const [name, ms] of Object.entries(traceMetrics(trace))) {
      const byLabels = this.#series.get(name) ?? new Map<string, Series>();
      this.#series.set(name, byLabels);
      const key = `${node}\u0000${image}`;
      const s = byLabels.get(key) ?? { labels: { node, image }, counts: BUCKETS.map(() => 0), count: 0, sum: 0, exemplars: BUCKETS.map(() => undefined).concat([undefined]) };
      byLabels.set(key, s);
      const seconds = ms / 1000;
      const bucket = BUCKETS.findIndex((le) => seconds <= le);
      for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) s.counts[i]!++;
      s.count++;
      s.sum += seconds;
      if (traceId !== undefined) s.exemplars[bucket === -1 ? BUCKETS.length : bucket] = { traceId, value: seconds, at: now / 1000 };
    }
    this.countOutcome(trace.outcome.class);
  }

  /** A round that ended without a trace (the cluster away, credentials refused): its class, counted. */
  countOutcome(cls: string): void {
    this.#outcomes.set(cls, (this.#outcomes.get(cls) ?? 0) + 1);
    this.#last = cls;
  }

  /** A round started; `lateMs` after it was due (0 when on time). */
  roundStarted(lateMs: number): void {
    this.#rounds++;
    if (lateMs > 0) {
      this.#delayed++;
      this.#delaySeconds += lateMs / 1000;
    }
  }

  render(): string {
    const lines: string[] = [];
    for (const spec of METRICS) {
      const byLabels = this.#series.get(spec.name);
      const name = `podtrace_${spec.name}_seconds`;
      lines.push(`# TYPE ${name} histogram`, `# UNIT ${name} seconds`, `# HELP ${name} ${spec.label}: ${spec.description}.`);
      for (const s of byLabels?.values() ?? []) {
        const base = labelText(s.labels);
        const exemplar = (i: number): string => {
          const e = s.exemplars[i];
          return e ? ` # {trace_id="${e.traceId}"} ${num(e.value)} ${num(e.at)}` : '';
        };
        BUCKETS.forEach((bound, i) => lines.push(`${name}_bucket{${base},le="${le(bound)}"} ${s.counts[i]}${exemplar(i)}`));
        lines.push(`${name}_bucket{${base},le="+Inf"} ${s.count}${exemplar(BUCKETS.length)}`);
        lines.push(`${name}_count{${base}} ${s.count}`, `${name}_sum{${base}} ${num(s.sum)}`);
      }
    }
    lines.push('# TYPE podtrace_probe_runs counter', '# HELP podtrace_probe_runs Runs of the probe, by outcome class (or the error that ended a round before a trace).');
    for (const [cls, n] of [...this.#outcomes].sort()) lines.push(`podtrace_probe_runs_total{outcome="${escape(cls)}"} ${n}`);
    lines.push('# TYPE podtrace_probe_last_outcome stateset', '# HELP podtrace_probe_last_outcome The outcome of the latest run.');
    for (const cls of [...this.#outcomes.keys()].sort()) lines.push(`podtrace_probe_last_outcome{podtrace_probe_last_outcome="${escape(cls)}"} ${cls === this.#last ? 1 : 0}`);
    lines.push('# TYPE podtrace_probe_rounds counter', '# HELP podtrace_probe_rounds Rounds started.', `podtrace_probe_rounds_total ${this.#rounds}`);
    lines.push('# TYPE podtrace_probe_rounds_delayed counter', '# HELP podtrace_probe_rounds_delayed Rounds that started late because the round before them was still running.', `podtrace_probe_rounds_delayed_total ${this.#delayed}`);
    lines.push('# TYPE podtrace_probe_round_delay_seconds counter', '# UNIT podtrace_probe_round_delay_seconds seconds', '# HELP podtrace_probe_round_delay_seconds How late the delayed rounds started, in all.', `podtrace_probe_round_delay_seconds_total ${num(this.#delaySeconds)}`);
    lines.push('# EOF', '');
    return lines.join('\n');
  }
}
