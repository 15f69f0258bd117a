import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/exit-codes.js';

describe('README "Exit codes"', () => {
  it('documents exactly the codes podtrace exits with', () => {
    const readme = readFileSync(path.join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('\n## ', readme.indexOf('## Exit codes') + 1));
    const documented = [...section.matchAll(/^\| ([\d /]+) \| (.+) \|$/gm)].flatMap((m) => m[1]!.split('/').map((c) => Number(c.trim())));
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort((a, b) => a - b)).toEqual([...new Set(Object.values(EXIT))].sort((a, b) => a - b));
  });
});
