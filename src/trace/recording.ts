/**
 * Recordings (`--record FILE.ndjson`): one RecordingHeader line, then one
 * Observation per line in arrival order. Parsing is strict and every error
 * names its line, so a damaged file is reported, not half-read.
 */
import {
  RECORDING_KIND,
  RECORDING_VERSION,
  type Observation,
  type ObservationSource,
  type RecordingHeader,
} from './observation.js';
import { TraceFileError } from './trace-file-error.js';

export interface Recording {
  header: RecordingHeader;
  observations: Observation[];
}

const SOURCES: ReadonlySet<ObservationSource> = new Set(['pod', 'event', 'eventsv1', 'node', 'endpointslice', 'client']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function preview(line: string): string {
  const oneLine = line.replace(/\s+/g, ' ').trim();
  return oneLine.length > 40 ? `${oneLine.slice(0, 40)}…` : oneLine;
}

function parseLine(line: string, lineNo: number, isLast: boolean, endsWithNewline: boolean): unknown {
  try {
    return JSON.parse(line);
  } catch {
    if (lineNo === 1) {
      throw new TraceFileError(`line 1: not JSON ("${preview(line)}"): not a podtrace recording (NDJSON)`, 1);
    }
    if (isLast && !endsWithNewline) {
      throw new TraceFileError(`line ${lineNo}: truncated (the recording ends in the middle of an observation)`, lineNo);
    }
    throw new TraceFileError(`line ${lineNo}: not valid JSON ("${preview(line)}")`, lineNo);
  }
}

function checkHeader(value: unknown): RecordingHeader {
  if (!isObject(value) || value.kind !== RECORDING_KIND) {
    const kind = isObject(value) && typeof value.kind === 'string' ? ` (kind "${value.kind}")` : '';
    throw new TraceFileError(`line 1: not a podtrace recording${kind}: expected a header with kind "${RECORDING_KIND}"`, 1);
  }
  if (value.version !== RECORDING_VERSION) {
    throw new TraceFileError(
      `line 1: unsupported recording version ${JSON.stringify(value.version)} (this podtrace reads version ${RECORDING_VERSION})`,
      1,
    );
  }
  const missing = ['toolVersion', 'namespace', 'podName'].filter((k) => typeof value[k] !== 'string');
  if (typeof value.startedAt !== 'number') missing.push('startedAt');
  if (!isObject(value.options)) missing.push('options');
  if (missing.length) throw new TraceFileError(`line 1: recording header lacks ${missing.join(', ')}`, 1);
  return value as unknown as RecordingHeader;
}

function checkObservation(value: unknown, lineNo: number): Observation {
  if (!isObject(value)) throw new TraceFileError(`line ${lineNo}: expected an observation object`, lineNo);
  const problems: string[] = [];
  if (typeof value.seq !== 'number') problems.push('seq is not a number');
  if (!SOURCES.has(value.source as ObservationSource)) problems.push(`unknown source ${JSON.stringify(value.source)}`);
  if (typeof value.type !== 'string') problems.push('type is not a string');
  if (typeof value.observedAt !== 'number' || !Number.isFinite(value.observedAt)) problems.push('observedAt is not a number');
  if (value.data !== undefined && !isObject(value.data)) problems.push('data is not an object');
  if (problems.length) throw new TraceFileError(`line ${lineNo}: not an observation (${problems.join('; ')})`, lineNo);
  return value as unknown as Observation;
}

export function parseRecording(text: string): Recording {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') throw new TraceFileError('empty file: not a podtrace recording');
  const endsWithNewline = /\n\s*$/.test(body);
  const lines = body.split(/\r?\n/);
  while (lines.length && lines.at(-1)!.trim() === '') lines.pop();

  let header: RecordingHeader | undefined;
  const observations: Observation[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    if (line.trim() === '') {
      if (i === 0) throw new TraceFileError('line 1: empty: a recording starts with its header', 1);
      continue;
    }
    const value = parseLine(line, lineNo, i === lines.length - 1, endsWithNewline);
    if (i === 0) header = checkHeader(value);
    else observations.push(checkObservation(value, lineNo));
  }
  return { header: header!, observations };
}

export function serializeRecording(header: RecordingHeader, observations: readonly Observation[]): string {
  return [header, ...observations].map((v) => JSON.stringify(v)).join('\n') + '\n';
}
