/**
 * The recordings reconstruct() is tested on: real ones, captured with
 * `--record` from the local cluster, under test/fixtures/recordings/. A
 * file's name says the outcome it must classify to:
 * `<outcome-class>-<anything>.ndjson`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRecording, type Recording } from '../../../src/trace/recording.js';
import type { OutcomeClass } from '../../../src/trace/types.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/recordings/', import.meta.url));

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
  'succeeded',
  'api-error',
  'timeout',
  'interrupted',
];

export interface RecordingFile {
  name: string;
  path: string;
  expected: OutcomeClass | undefined;
  text: string;
}

/** The outcome class a file name announces (longest matching prefix), if any. */
export function expectedClass(fileName: string): OutcomeClass | undefined {
  return [...CLASSES].sort((a, b) => b.length - a.length).find((c) => fileName.startsWith(`${c}-`) || fileName === `${c}.ndjson`);
}

/** Every real recording, by name; an unreadable fixture directory is an empty list (the tests then fail on it). */
export function fixtureRecordings(): RecordingFile[] {
  let names: string[];
  try {
    names = readdirSync(FIXTURE_DIR);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.ndjson'))
    .sort()
    .map((name) => {
      const path = `${FIXTURE_DIR}${name}`;
      return { name, path, expected: expectedClass(name), text: readFileSync(path, 'utf8') };
    });
}

/** One fixture, parsed; throws when it is missing so a test on it cannot pass vacuously. */
export function loadFixture(name: string): Recording & { text: string } {
  const text = readFileSync(`${FIXTURE_DIR}${name}`, 'utf8');
  return { ...parseRecording(text), text };
}
