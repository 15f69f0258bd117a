import { randomInt } from 'node:crypto';

/**
 * The alphabet Kubernetes uses for generateName suffixes: no vowels, so that a
 * random suffix never spells a word, and no characters that look alike (0/o, 1/l).
 */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX_LENGTH = 5;
const PREFIX = 'podtrace-';
/** Generated names stay a DNS-1123 label (the pod's hostname is derived from it). */
const MAX_GENERATED_LENGTH = 63;

export type RandomIndex = (exclusiveMax: number) => number;

export function randomSuffix(random: RandomIndex = randomInt): string {
  let suffix = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) suffix += SUFFIX_ALPHABET[random(SUFFIX_ALPHABET.length)];
  return suffix;
}

/** Turns an image basename such as `my_app.v2` into a DNS-1123 label fragment (`my-app-v2`). */
export function sanitizeForName(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `podtrace-<image-basename>-<5 random>`, e.g. `podtrace-nginx-x7k2p`. */
export function generatePodName(imageBasename: string, random: RandomIndex = randomInt): string {
  const room = MAX_GENERATED_LENGTH - PREFIX.length - 1 - SUFFIX_LENGTH;
  const base = sanitizeForName(imageBasename).slice(0, room).replace(/-+$/, '');
  return `${PREFIX}${base === '' ? 'pod' : base}-${randomSuffix(random)}`;
}

/** `generateName` from a manifest plus a suffix, as the API server would do it, but known before the POST. */
export function nameFromGenerateName(generateName: string, random: RandomIndex = randomInt): string {
  const room = 253 - SUFFIX_LENGTH;
  return `${generateName.slice(0, room)}${randomSuffix(random)}`;
}

/** The value of the `podtrace.dev/run` label: unique per run, valid as a label value. */
export function generateRunId(now: number, random: RandomIndex = randomInt): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
  return `${stamp}-${randomSuffix(random)}`;
}
