import { describe, expect, it } from 'vitest';
import { generatePodName, generateRunId, nameFromGenerateName, randomSuffix, sanitizeForName } from '../../../src/commands/pod-name.js';
import { isDns1123Label } from '../../../src/commands/parse/flags.js';

function sequence(...values: number[]): (max: number) => number {
  let i = 0;
  return (max) => values[i++ % values.length]! % max;
}

describe('pod names', () => {
  it('is podtrace-<image basename>-<5 random>', () => {
    expect(generatePodName('nginx', sequence(0, 1, 2, 3, 4))).toBe('podtrace-nginx-bcdfg');
    expect(generatePodName('nginx')).toMatch(/^podtrace-nginx-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('makes any basename a DNS-1123 label of at most 63 characters', () => {
    for (const base of ['My_App.v2', '___', 'a'.repeat(100), 'x--y', 'UPPER']) {
      const name = generatePodName(base);
      expect(isDns1123Label(name), name).toBe(true);
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(sanitizeForName('My_App.v2')).toBe('my-app-v2');
    expect(generatePodName('___', sequence(0))).toBe('podtrace-pod-bbbbb');
  });

  it('gives different names to different runs', () => {
    const names = new Set(Array.from({ length: 50 }, () => generatePodName('nginx')));
    expect(names.size).toBe(50);
    expect(randomSuffix()).toHaveLength(5);
  });

  it('resolves generateName before the POST and builds run ids that are label values', () => {
    expect(nameFromGenerateName('web-', sequence(0))).toBe('web-bbbbb');
    const id = generateRunId(Date.UTC(2025, 0, 2, 3, 4, 5, 678), sequence(0));
    expect(id).toBe('20250102t030405z-bbbbb');
    expect(id).toMatch(/^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/);
  });
});
