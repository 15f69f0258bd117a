/**
 * A run set: the traces of `podtrace create --runs N` (or of `podtrace watch`),
 * saved as one JSON file. diff and report accept a run set or a single trace
 * file anywhere; a single trace is a run set of one.
 */
import { parseTraceFile } from '../trace/trace-file.js';
import { TraceFileError } from '../trace/trace-file-error.js';
import { TOOL_NAME, type Trace } from '../trace/types.js';
import { isFactSet, type FactSet, type RunFacts } from './run-facts.js';

export const RUNSET_KIND = 'podtrace-runset';
export const RUNSET_SCHEMA_VERSION = 1;

export interface RunSet {
  kind: typeof RUNSET_KIND;
  schemaVersion: typeof RUNSET_SCHEMA_VERSION;
  tool: typeof TOOL_NAME;
  toolVersion: string;
  /** What the runs share, for headings: e.g. "nginx on podtrace-local". */
  label: string;
  /** Client clock, ms since epoch, when the first run started. */
  createdAt: number;
  /** 'node': made by `create --per-node`; report and the summary compare its runs node by node. */
  groupBy?: 'node';
  runs: Trace[];
}

export function makeRunSet(runs: Trace[], label: string, toolVersion: string, groupBy?: 'node'): RunSet {
  return {
    kind: RUNSET_KIND,
    schemaVersion: RUNSET_SCHEMA_VERSION,
    tool: TOOL_NAME,
    toolVersion,
    label,
    createdAt: runs[0]?.run.startedAt ?? 0,
    ...(groupBy ? { groupBy } : {}),
    runs,
  };
}

/** The node a run's pod ran on, or the one it was pinned to when it never got one. */
function nodeOfRun(trace: Trace): string {
  return trace.node?.name ?? trace.run.options.node ?? '(no node)';
}

/**
 * A run set grouped by node: one set per node, in the order the nodes first appear, labelled
 * "LABEL · node NAME". Any other set is returned as it is.
 */
export function splitByNode(set: RunSet): RunSet[];
export function splitByNode(set: FactSet): FactSet[];
export function splitByNode(set: RunSet | FactSet): Array<RunSet | FactSet>;
export function splitByNode(set: RunSet | FactSet): Array<RunSet | FactSet> {
  if (isFactSet(set)) {
    if (set.groupBy !== 'node') return [set];
    const byNode = new Map<string, RunFacts[]>();
    for (const run of set.runs) {
      const runs = byNode.get(run.node);
      if (runs) runs.push(run);
      else byNode.set(run.node, [run]);
    }
    return [...byNode].map(([node, runs]) => ({ factsOnly: true as const, label: `${set.label} · node ${node}`, runs }));
  }
  if (set.groupBy !== 'node') return [set];
  const byNode = new Map<string, Trace[]>();
  for (const run of set.runs) {
    const node = nodeOfRun(run);
    const runs = byNode.get(node);
    if (runs) runs.push(run);
    else byNode.set(node, [run]);
  }
  return [...byNode].map(([node, runs]) => ({
    ...makeRunSet(runs, `${set.label} · node ${node}`, set.toolVersion),
    createdAt: runs[0]!.run.startedAt,
  }));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A run set's fields other than its runs, checked: what parseRunSetOrTrace and the streaming reader share. */
export type RunSetHead = Omit<RunSet, 'runs' | 'createdAt'> & { createdAt?: number };

/** Whether a parsed value is a run set (else it is taken for a single trace). */
export function isRunSetValue(value: unknown): value is Record<string, unknown> {
  return isObject(value) && value.kind === RUNSET_KIND;
}

/** Checks a run set's own fields (not its runs); a TraceFileError says what is wrong. */
export function runSetHead(value: Record<string, unknown>, fallbackLabel: string): RunSetHead {
  if (value.tool !== TOOL_NAME) throw new TraceFileError(`a run set from "${String(value.tool)}", not from podtrace`);
  if (value.schemaVersion !== RUNSET_SCHEMA_VERSION) {
    throw new TraceFileError(`run set schemaVersion ${JSON.stringify(value.schemaVersion)} is not supported (this podtrace reads ${RUNSET_SCHEMA_VERSION})`);
  }
  if (value.groupBy !== undefined && value.groupBy !== 'node') throw new TraceFileError(`run set groupBy ${JSON.stringify(value.groupBy)} is not supported (only "node")`);
  if (!Array.isArray(value.runs)) throw new TraceFileError('a run set with no runs');
  const label = typeof value.label === 'string' && value.label ? value.label : fallbackLabel;
  const createdAt = Number(value.createdAt) || undefined;
  return {
    kind: RUNSET_KIND,
    schemaVersion: RUNSET_SCHEMA_VERSION,
    tool: TOOL_NAME,
    toolVersion: String(value.toolVersion ?? ''),
    label,
    ...(createdAt !== undefined ? { createdAt } : {}),
    ...(value.groupBy === 'node' ? { groupBy: 'node' as const } : {}),
  };
}

/** Run `index` (from 0) of a run set, from its JSON text; a TraceFileError names the run. */
export function parseRun(text: string, index: number): Trace {
  try {
    return parseTraceFile(text);
  } catch (error) {
    throw new TraceFileError(`run ${index + 1} of the run set: ${(error as Error).message}`);
  }
}

/** The run set of a checked head and its parsed runs. */
export function assembleRunSet(head: RunSetHead, runs: Trace[]): RunSet {
  if (runs.length === 0) throw new TraceFileError('a run set with no runs');
  return { ...makeRunSet(runs, head.label, head.toolVersion, head.groupBy), createdAt: head.createdAt ?? runs[0]!.run.startedAt };
}

/**
 * Parses a run set or a single trace file (then a run set of one, labelled
 * `fallbackLabel`). Any other content is a one-line TraceFileError.
 */
export function parseRunSetOrTrace(text: string, fallbackLabel: string): RunSet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // not JSON at all (or cut short): let the trace parser say precisely what is wrong
    return makeRunSet([parseTraceFile(text)], fallbackLabel, '');
  }
  if (isRunSetValue(value)) {
    const head = runSetHead(value, fallbackLabel);
    return assembleRunSet(
      head,
      (value.runs as unknown[]).map((run, i) => parseRun(JSON.stringify(run), i)),
    );
  }
  const trace = parseTraceFile(text);
  return makeRunSet([trace], fallbackLabel, trace.toolVersion);
}
