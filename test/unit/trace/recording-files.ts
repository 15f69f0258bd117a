/**
 * The recordings reconstruct() is tested on: real ones captured with
 * `--record` under test/fixtures/recordings/, plus the synthetic development
 * ones beside these tests (synthetic-*.ndjson). A file's name says the
 * outcome it must classify to: `<outcome-class>-<anything>.ndjson`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OutcomeClass } from '../../../src/trace/types.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/recordings/', import.meta.url));
const SYNTHETIC_DIR = fileURLToPath(new URL('./', import.meta.url));

const CLASSES: readonly OutcomeClass[] = [
  'ready',
  'in-progress',
  'unschedulable',
  'image-pull-not-found',
  'image-pull-unauthorized',
  'image-pull-backoff',
  'crash-loop',
  'container-config-error',
  'sandbox-failure',
  'readiness-never-succeeded',
  'admission-rejected',
  'validation-rejected',
  'forbidden',
  'pod-failed',
  'api-error',
  'timeout',
  'interrupted',
];

export interface RecordingFile {
  name: string;
  path: string;
  synthetic: boolean;
  expected: OutcomeClass | undefined;
  text: string;
}

/** The outcome class a file name announces (longest matching prefix), if any. */
export function expectedClass(fileName: string): OutcomeClass | undefined {
  const base = fileName.replace(/^synthetic-/, '');
  return [...CLASSES].sort((a, b) => b.length - a.length).find((c) => base.startsWith(`${c}-`) || base === `${c}.ndjson`);
}

function list(dir: string, synthetic: boolean): RecordingFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.ndjson') && (!synthetic || n.startsWith('synthetic-')))
    .sort()
    .map((name) => {
      const path = `${dir}${name}`;
      return { name, path, synthetic, expected: expectedClass(name), text: readFileSync(path, 'utf8') };
    });
}

export function fixtureRecordings(): RecordingFile[] {
  return list(FIXTURE_DIR, false);
}

export function allRecordings(): RecordingFile[] {
  return [...fixtureRecordings(), ...list(SYNTHETIC_DIR, true)];
}
