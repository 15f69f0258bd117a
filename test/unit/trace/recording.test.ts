import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/exit-codes.js';
import { parseRecording, serializeRecording } from '../../../src/trace/recording.js';
import { TraceFileError } from '../../../src/trace/trace-file-error.js';

const text = readFileSync(new URL('../../fixtures/recordings/ready-nginx.ndjson', import.meta.url), 'utf8');

function errorOf(input: string): TraceFileError {
  try {
    parseRecording(input);
  } catch (err) {
    expect(err).toBeInstanceOf(TraceFileError);
    return err as TraceFileError;
  }
  throw new Error('expected parseRecording to throw');
}

describe('parseRecording / serializeRecording', () => {
  it('round-trips a recording byte for byte', () => {
    const r = parseRecording(text);
    expect(r.header.kind).toBe('podtrace-recording');
    expect(r.observations.length).toBe(text.trim().split('\n').length - 1);
    expect(serializeRecording(r.header, r.observations)).toBe(text);
  });

  it('accepts CRLF line ends, a BOM and trailing blank lines', () => {
    const r = parseRecording(`\uFEFF${text.replaceAll('\n', '\r\n')}\r\n\r\n`);
    expect(r.observations.length).toBe(parseRecording(text).observations.length);
  });

  const header = text.split('\n', 1)[0]!;
  it.each([
    ['', /^empty file: not a podtrace recording$/],
    ['{\n  "schemaVersion": 1\n}\n', /^line 1: not JSON .*not a podtrace recording/],
    ['hello world\n', /^line 1: not JSON/],
    ['{"kind":"Pod","apiVersion":"v1"}\n', /^line 1: not a podtrace recording \(kind "Pod"\)/],
    [header.replace('"version":1', '"version":2') + '\n', /^line 1: unsupported recording version 2 \(this podtrace reads version 1\)$/],
    [header.replace('"podName":', '"pod":') + '\n', /^line 1: recording header lacks podName$/],
    [`${header}\n{"seq":0,"source":"pod","type":"ADDED","observedAt":1}\n{"seq":1,"source":"pod","ty`, /^line 3: truncated/],
    [`${header}\n{"seq":0,"source":"pod","type":"ADDED","observedAt":1}\nnot json\n{"seq":2}\n`, /^line 3: not valid JSON/],
    [`${header}\n{"seq":0,"source":"kubelet","type":"ADDED","observedAt":"soon"}\n`, /^line 2: not an observation \(unknown source "kubelet"; observedAt is not a number\)$/],
  ])('rejects %j with a one-line message', (input, message) => {
    const err = errorOf(input);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
    expect(err.exitCode).toBe(EXIT.badTraceFile);
  });
});
