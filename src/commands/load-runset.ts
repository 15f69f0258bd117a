import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { RECORDING_KIND } from '../trace/observation.js';
import { assembleRunSet, isRunSetValue, parseRun, parseRunSetOrTrace, runSetHead, RUNSET_KIND, type RunSet, type RunSetHead } from '../analysis/runset.js';
import type { FactSet, RunFacts } from '../analysis/run-facts.js';
import { reportFacts } from '../report/aggregate.js';
import { RunSetSplitter } from '../analysis/runset-split.js';
import type { Trace } from '../trace/types.js';
import { TraceFileError } from '../trace/trace-file-error.js';

/**
 * Above this size a run set is read a piece at a time and each run parsed alone (analysis/
 * runset-split.ts), never the whole text and its whole JSON tree at once: a watch of 10,000 pods
 * is hundreds of megabytes of text.
 */
export const STREAM_ABOVE_BYTES = 16 * 2 ** 20;

function firstLineKind(text: string): unknown {
  const first = (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n', 1)[0] ?? '';
  try {
    const value: unknown = JSON.parse(first);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>).kind : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a trace file or a run set (`podtrace create --runs N`) for diff and
 * report. Anything else is one TraceFileError line (exit 7) naming the file:
 * missing, unreadable, not JSON, cut short, another tool's JSON, another
 * schema version, or a recording given where a trace is wanted.
 */
export async function loadRunSet(file: string, cwd: string, label = file, options: { streamAboveBytes?: number } = {}): Promise<RunSet> {
  const full = path.resolve(cwd, file);
  if ((await fileBytes(file, cwd)) > (options.streamAboveBytes ?? STREAM_ABOVE_BYTES)) {
    const streamed = await streamedRuns(file, full, label, (trace) => trace);
    if (streamed) return assembleRunSet(streamed.head, streamed.runs);
  }
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory; give a trace file or a run set file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : (error as Error).message;
    throw new TraceFileError(`cannot read ${file}: ${why}`);
  }
  const kind = firstLineKind(text);
  if (kind === RECORDING_KIND) {
    throw new TraceFileError(
      `${file} is a podtrace recording (NDJSON), not a trace: make a trace of it first with podtrace replay ${file} -o json --out trace.json`,
    );
  }
  try {
    return parseRunSetOrTrace(text, label);
  } catch (error) {
    if (error instanceof TraceFileError) {
      const other = typeof kind === 'string' && kind.startsWith('podtrace-') && kind !== RUNSET_KIND ? ` (a ${kind})` : '';
      throw new TraceFileError(`${file}${other}: ${error.message}`, error.line);
    }
    throw error;
  }
}

/**
 * streamRuns for a file as typed: a TraceFileError names it; any other failure on the way gives
 * undefined, and the whole-file path then says what is wrong.
 */
async function streamedRuns<T>(file: string, full: string, label: string, keep: (trace: Trace) => T): Promise<{ head: RunSetHead; runs: T[] } | undefined> {
  return streamRuns(full, label, keep).catch((error: unknown) => {
    if (error instanceof TraceFileError) throw new TraceFileError(`${file}: ${error.message}`, error.line);
    return undefined;
  });
}

/** A run set's runs read a piece at a time, each kept as `keep` makes it; undefined when not a run set. */
async function streamRuns<T>(file: string, label: string, keep: (trace: Trace) => T): Promise<{ head: RunSetHead; runs: T[] } | undefined> {
  const splitter = new RunSetSplitter();
  const runs: T[] = [];
  let runError: unknown;
  let first = true;
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    let text = chunk as string;
    if (first) {
      first = false;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
      if (firstLineKind(text) === RECORDING_KIND) return undefined;
    }
    for (const run of splitter.push(text)) {
      if (runError !== undefined) continue;
      try {
        runs.push(keep(parseRun(run, runs.length)));
      } catch (error) {
        runError = error;
      }
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(splitter.skeleton());
  } catch {
    return undefined;
  }
  if (!isRunSetValue(value)) return undefined;
  const head = runSetHead(value, label);
  if (runError !== undefined) throw runError;
  if (runs.length === 0) throw new TraceFileError('a run set with no runs');
  return { head, runs };
}

/**
 * A trace file or run set as the facts of its runs (analysis/run-facts.ts): what report's
 * aggregates (table, json, markdown), diff and the gates need. A big run set is read a run at a
 * time and no trace is kept, so memory follows the number of runs by a few hundred bytes each.
 */
export async function loadFactSet(file: string, cwd: string, label = file, options: { streamAboveBytes?: number; onTrace?: (trace: Trace) => void } = {}): Promise<FactSet> {
  const keep = (trace: Trace): RunFacts => {
    options.onTrace?.(trace);
    return reportFacts(trace);
  };
  const full = path.resolve(cwd, file);
  if ((await fileBytes(file, cwd)) > (options.streamAboveBytes ?? STREAM_ABOVE_BYTES)) {
    const streamed = await streamedRuns(file, full, label, keep);
    if (streamed) return { factsOnly: true, label: streamed.head.label, ...(streamed.head.groupBy ? { groupBy: streamed.head.groupBy } : {}), runs: streamed.runs };
  }
  const set = await loadRunSet(file, cwd, label, { streamAboveBytes: Number.POSITIVE_INFINITY });
  return { factsOnly: true, label: set.label, ...(set.groupBy ? { groupBy: set.groupBy } : {}), runs: set.runs.map(keep) };
}

/** Each run of a trace file or run set, in order, a run at a time when the file is big; how many. */
export async function forEachRun(file: string, cwd: string, each: (trace: Trace, index: number) => void): Promise<number> {
  let index = 0;
  // the file was read once already (its facts): an error now is the file changing meanwhile
  const streamed = await streamRuns(path.resolve(cwd, file), file, (trace) => each(trace, index++));
  if (streamed) return index;
  const set = await loadRunSet(file, cwd, file, { streamAboveBytes: Number.POSITIVE_INFINITY });
  set.runs.forEach((trace, i) => each(trace, i));
  return set.runs.length;
}

/** The size of a file, 0 when it cannot be read (its reader says why). */
export async function fileBytes(file: string, cwd: string): Promise<number> {
  return stat(path.resolve(cwd, file)).then(
    (s) => (s.isFile() ? s.size : 0),
    () => 0,
  );
}

