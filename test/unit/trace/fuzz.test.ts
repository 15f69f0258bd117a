/**
 * The parsers of files users hand to podtrace (recordings, traces, run sets)
 * must answer any input with a result or a one-line TraceFileError, never
 * another exception; reconstruct() must survive observations lost, repeated
 * or out of order, as a flaky watch delivers them. Inputs are random and
 * mutations of real recordings; the run count is bounded so the suite stays fast.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRecording, serializeRecording } from '../../../src/trace/recording.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseRunSetOrTrace } from '../../../src/analysis/runset.js';
import { parseTraceFile } from '../../../src/trace/trace-file.js';
import { TraceFileError } from '../../../src/trace/trace-file-error.js';
import { fixtureRecordings, loadFixture } from './recording-files.js';

const RUNS = 300;
const recordings = fixtureRecordings().map((r) => r.text);
const traceTexts = fixtureRecordings()
  .slice(0, 4)
  .map((r) => {
    const { header, observations } = parseRecording(r.text);
    return JSON.stringify(reconstruct(header, observations));
  });

/** Calls parse; passes when it returns or throws a one-line TraceFileError. */
function acceptsOrRefusesCleanly(parse: (text: string) => unknown, text: string): void {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(TraceFileError);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message.length).toBeGreaterThan(0);
  }
}

/** A real file, cut, with bytes changed, or with lines dropped or repeated. */
const mutated = (sources: string[]): fc.Arbitrary<string> =>
  fc.oneof<fc.Arbitrary<string>[]>(
    fc.tuple(fc.constantFrom(...sources), fc.double({ min: 0, max: 1, noNaN: true })).map(([t, f]) => t.slice(0, Math.floor(t.length * f))),
    fc
      .tuple(fc.constantFrom(...sources), fc.array(fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 1 })), { minLength: 1, maxLength: 8 }))
      .map(([t, edits]) => {
        const chars = [...t];
        for (const [at, c] of edits) chars[at % chars.length] = c;
        return chars.join('');
      }),
    fc.tuple(fc.constantFrom(...sources), fc.array(fc.nat(), { minLength: 1, maxLength: 5 })).map(([t, picks]) => {
      const lines = t.split('\n');
      for (const p of picks) lines.splice(p % lines.length, 1, ...(p % 2 ? [] : [lines[p % lines.length]!, lines[p % lines.length]!]));
      return lines.join('\n');
    }),
    fc.string(),
    fc.json(),
  );

describe('parsers under random and mutated input', () => {
  it('parseRecording', () => {
    fc.assert(fc.property(mutated(recordings), (text) => acceptsOrRefusesCleanly(parseRecording, text)), { numRuns: RUNS });
  });

  it('parseTraceFile', () => {
    fc.assert(fc.property(mutated(traceTexts), (text) => acceptsOrRefusesCleanly(parseTraceFile, text)), { numRuns: RUNS });
  });

  it('parseRunSetOrTrace', () => {
    const runSet = JSON.stringify({ kind: 'podtrace-runset', schemaVersion: 1, tool: 'podtrace', toolVersion: 'x', label: 'l', createdAt: 1, runs: traceTexts.map((t) => JSON.parse(t)) });
    fc.assert(
      fc.property(mutated([runSet, ...traceTexts]), (text) => acceptsOrRefusesCleanly((t) => parseRunSetOrTrace(t, 'input'), text)),
      { numRuns: RUNS },
    );
  });
});

describe('reconstruct() under a flaky watch', () => {
  const { header, observations } = loadFixture('ready-nginx-cold.ndjson');

  it('never throws when observations are dropped, repeated or reordered, and its trace serializes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: observations.length - 1 }), { maxLength: observations.length * 2 }),
        (picks) => {
          const mangled = picks.map((i, seq) => ({ ...observations[i]!, seq }));
          const trace = reconstruct(header, mangled);
          expect(() => JSON.stringify(trace)).not.toThrow();
          for (const p of trace.phases) expect(p.durationMs).toBeGreaterThanOrEqual(0);
          // a recording of the mangled list parses back to the same observations
          expect(parseRecording(serializeRecording(header, mangled)).observations).toHaveLength(mangled.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});
