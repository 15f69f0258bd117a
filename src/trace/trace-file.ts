/**
 * Reading a saved trace (`podtrace create -o json > run.json`, compare,
 * export). The checks here are the structural ones podtrace relies on;
 * schema/trace.schema.json is the full description. Errors are one line.
 */
import { RECORDING_KIND } from './observation.js';
import { TraceFileError } from './trace-file-error.js';
import { TOOL_NAME, TRACE_SCHEMA_VERSION, type Trace } from './types.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function looksLikeRecording(text: string): boolean {
  const first = text.split('\n', 1)[0] ?? '';
  try {
    const v: unknown = JSON.parse(first);
    return isObject(v) && v.kind === RECORDING_KIND;
  } catch {
    return false;
  }
}

type Check = [path: string, test: (v: unknown) => boolean, expected: string];

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown) => typeof v === 'string';
const isArr = (v: unknown) => Array.isArray(v);
const isObjOrNull = (v: unknown) => v === null || isObject(v);

const TOP_LEVEL: Check[] = [
  ['toolVersion', isStr, 'a string'],
  ['run', isObject, 'an object'],
  ['pod', isObject, 'an object'],
  ['admission', isObject, 'an object'],
  ['clock', isObject, 'an object'],
  ['milestones', isArr, 'an array'],
  ['phases', isArr, 'an array'],
  ['scheduling', isObject, 'an object'],
  ['containers', isArr, 'an array'],
  ['node', isObjOrNull, 'an object or null'],
  ['cluster', isObjOrNull, 'an object or null'],
  ['identity', isObjOrNull, 'an object or null'],
  ['accessReviews', isArr, 'an array'],
  ['gaps', isArr, 'an array'],
  ['anomalies', isArr, 'an array'],
  ['outcome', isObject, 'an object'],
];

const MILESTONE: Check[] = [
  ['id', isStr, 'a string'],
  ['at', isNum, 'a number'],
  ['offsetMs', isNum, 'a number'],
  ['source', isStr, 'a string'],
  ['precisionMs', isNum, 'a number'],
];

const PHASE: Check[] = [
  ['id', isStr, 'a string'],
  ['startOffsetMs', isNum, 'a number'],
  ['durationMs', isNum, 'a number'],
];

function check(obj: Record<string, unknown>, checks: Check[], prefix: string): void {
  for (const [key, test, expected] of checks) {
    if (!(key in obj)) throw new TraceFileError(`not a complete podtrace trace: ${prefix}${key} is missing`);
    if (!test(obj[key])) throw new TraceFileError(`not a valid podtrace trace: ${prefix}${key} should be ${expected}`);
  }
}

function checkItems(list: unknown[], checks: Check[], name: string): void {
  list.forEach((item, i) => {
    if (!isObject(item)) throw new TraceFileError(`not a valid podtrace trace: ${name}[${i}] should be an object`);
    check(item, checks, `${name}[${i}].`);
  });
}

export function parseTraceFile(text: string): Trace {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') throw new TraceFileError('empty file: not a podtrace trace');
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    if (looksLikeRecording(body)) {
      throw new TraceFileError('this is a podtrace recording (NDJSON), not a trace: replay it to get a trace');
    }
    const why = (err instanceof Error ? err.message.split('\n')[0] : String(err)) ?? '';
    // Where the parser gave up: at the very end of the text means the text stops early.
    const position = Number(/at position (\d+)/.exec(why)?.[1] ?? NaN);
    if (/end of (JSON|data)|Unterminated/i.test(why) || position >= body.trimEnd().length) {
      throw new TraceFileError(`truncated: the JSON ends early (${why})`);
    }
    throw new TraceFileError(`not JSON: ${why}`);
  }
  if (!isObject(value) || value.tool !== TOOL_NAME) {
    throw new TraceFileError(`not a podtrace trace: expected an object with "tool": "${TOOL_NAME}"`);
  }
  if (value.schemaVersion !== TRACE_SCHEMA_VERSION) {
    throw new TraceFileError(
      `unsupported trace schema version ${JSON.stringify(value.schemaVersion ?? null)} (this podtrace reads version ${TRACE_SCHEMA_VERSION})`,
    );
  }
  check(value, TOP_LEVEL, '');
  checkItems(value.milestones as unknown[], MILESTONE, 'milestones');
  checkItems(value.phases as unknown[], PHASE, 'phases');
  const outcome = value.outcome as Record<string, unknown>;
  if (!isStr(outcome.class)) throw new TraceFileError('not a valid podtrace trace: outcome.class should be a string');
  return value as unknown as Trace;
}
