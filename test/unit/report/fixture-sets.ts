/**
 * Traces and run sets for the report tests, all from the real recordings
 * (test/fixtures/recordings): every trace is reconstructed, never invented.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { reconstruct } from '../../../src/trace/reconstruct.js';
import { parseRecording } from '../../../src/trace/recording.js';
import { makeRunSet, type RunSet } from '../../../src/trace/runset.js';
import type { Trace } from '../../../src/trace/types.js';
import { fixtureRecordings, loadFixture } from '../trace/recording-files.js';

export function traceOf(fixture: string): Trace {
  const { header, observations } = loadFixture(fixture);
  return reconstruct(header, observations);
}

/** Every recording, reconstructed, by file name. */
export const ALL_TRACES: Array<[string, Trace]> = fixtureRecordings().map((r) => {
  const { header, observations } = parseRecording(r.text);
  return [r.name, reconstruct(header, observations)];
});

/** Ready runs of nginx (warm, cold, ...) as one set, every other outcome as another. */
export function fixtureSets(): { ready: RunSet; failed: RunSet; all: RunSet } {
  const ready = ALL_TRACES.filter(([name]) => name.startsWith('ready-')).map(([, t]) => t);
  const failed = ALL_TRACES.filter(([name]) => !name.startsWith('ready-')).map(([, t]) => t);
  return {
    ready: makeRunSet(ready, 'ready runs', '0.1.0'),
    failed: makeRunSet(failed, 'failed runs', '0.1.0'),
    all: makeRunSet(ALL_TRACES.map(([, t]) => t), 'all', '0.1.0'),
  };
}

const reportSchema: unknown = JSON.parse(readFileSync(new URL('../../../schema/report.schema.json', import.meta.url), 'utf8'));
const validateReport = new Ajv2020({ allErrors: true, strict: true }).compile(reportSchema as object);

/** Schema errors of a `podtrace report -o json` document; [] when valid. */
export function reportSchemaErrors(value: unknown): string[] {
  if (validateReport(value)) return [];
  return (validateReport.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** RFC 4180 CSV into rows of fields (quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
