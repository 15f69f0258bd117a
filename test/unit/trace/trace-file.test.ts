import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../../src/report/serialize.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseRecording } from '../../../src/trace/recording.js';
import { parseTraceFile } from '../../../src/trace/trace-file.js';
import { TraceFileError } from '../../../src/trace/trace-file-error.js';

const recordingText = readFileSync(new URL('../../fixtures/recordings/ready-nginx.ndjson', import.meta.url), 'utf8');
const { header, observations } = parseRecording(recordingText);
const json = renderJson(reconstruct(header, observations));

function messageOf(input: string): string {
  try {
    parseTraceFile(input);
  } catch (err) {
    expect(err).toBeInstanceOf(TraceFileError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected parseTraceFile to throw');
}

describe('parseTraceFile', () => {
  it('reads back what renderJson wrote', () => {
    const trace = parseTraceFile(json);
    expect(trace).toEqual(JSON.parse(json));
    expect(renderJson(trace)).toBe(json);
  });

  it('says what is wrong, in one line', () => {
    expect(messageOf('')).toBe('empty file: not a podtrace trace');
    expect(messageOf(json.slice(0, Math.floor(json.length / 2)))).toMatch(/^truncated: the JSON ends early/);
    expect(messageOf('<html>')).toMatch(/^not JSON: /);
    expect(messageOf('{"name":"my-package","version":"1.0.0"}')).toBe('not a podtrace trace: expected an object with "tool": "podtrace"');
    expect(messageOf('[1,2,3]')).toMatch(/^not a podtrace trace/);
    expect(messageOf(json.replace('"schemaVersion": 1', '"schemaVersion": 7'))).toBe(
      'unsupported trace schema version 7 (this podtrace reads version 1)',
    );
    expect(messageOf(recordingText)).toMatch(/^this is a podtrace recording \(NDJSON\), not a trace/);
    const broken = JSON.parse(json);
    delete broken.milestones[2].at;
    expect(messageOf(JSON.stringify(broken))).toBe('not a complete podtrace trace: milestones[2].at is missing');
    broken.phases = 'none';
    delete broken.milestones;
    expect(messageOf(JSON.stringify(broken))).toBe('not a complete podtrace trace: milestones is missing');
  });
});
