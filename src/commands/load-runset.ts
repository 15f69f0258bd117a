import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RECORDING_KIND } from '../trace/observation.js';
import { parseRunSetOrTrace, RUNSET_KIND, type RunSet } from '../analysis/runset.js';
import { TraceFileError } from '../trace/trace-file-error.js';

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
export async function loadRunSet(file: string, cwd: string, label = file): Promise<RunSet> {
  let text: string;
  try {
    text = await readFile(path.resolve(cwd, file), 'utf8');
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
