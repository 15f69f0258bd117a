import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { CREATE_OPTIONS, DIFF_OPTIONS, INSPECT_OPTIONS, REPLAY_OPTIONS, REPORT_OPTIONS, WATCH_OPTIONS } from '../../../src/commands/option-tables.js';
import { DOCTOR_OPTIONS } from '../../../src/commands/option-tables.js';
import { attributeName, readOptions, type AnyOption, type OptionTable } from '../../../src/commands/options.js';
import { UsageError } from '../../../src/errors.js';
import { EXIT } from '../../../src/exit-codes.js';
import { memoryStream } from './fake-kube.js';

const TABLES: Array<[string, Record<string, AnyOption>]> = [
  ['create', CREATE_OPTIONS as Record<string, AnyOption>],
  ['watch', WATCH_OPTIONS as Record<string, AnyOption>],
  ['inspect', INSPECT_OPTIONS as Record<string, AnyOption>],
  ['replay', REPLAY_OPTIONS as Record<string, AnyOption>],
  ['report', REPORT_OPTIONS as Record<string, AnyOption>],
  ['diff', DIFF_OPTIONS as Record<string, AnyOption>],
  ['doctor', DOCTOR_OPTIONS as Record<string, AnyOption>],
];

describe('the option tables', () => {
  it.each(TABLES)('%s: every flag once, each with help text', (_, table) => {
    const specs = Object.values(table);
    const names = specs.map((s) => attributeName(s.flags));
    expect(new Set(names).size).toBe(names.length);
    for (const spec of specs) expect(spec.description.length).toBeGreaterThan(10);
  });

  it("a default is parsed like a typed value, and every default parses", () => {
    for (const [, table] of TABLES) {
      for (const spec of Object.values(table)) if (spec.kind === 'value' && spec.default !== undefined) expect(() => spec.parse(spec.default!)).not.toThrow();
    }
    expect(readOptions(CREATE_OPTIONS, {}).timeoutMs).toBe(300_000);
    expect(readOptions(WATCH_OPTIONS, {}).forMs).toBe(300_000);
  });

  it('reads switches, lists and values from what commander collected', () => {
    const options = readOptions(CREATE_OPTIONS, { keep: true, env: ['A=1', 'B=x=y'], filename: 'pod.yaml', pullPolicy: 'always', runs: '3', failOn: ['ready>5s'] });
    expect(options).toMatchObject({ keep: true, quiet: false, file: 'pod.yaml', pullPolicy: 'Always', runs: 3, gates: [{ text: 'ready>5s', limitMs: 5000 }] });
    expect(options.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'x=y' },
    ]);
    expect('expose' in options).toBe(false);
  });

  it('a table that misses a field of its options type does not compile', () => {
    // @ts-expect-error: 'b' has no entry
    const incomplete: OptionTable<{ a?: string; b?: string }> = { a: { kind: 'value', flags: '--a <a>', description: 'the a option', parse: (t) => t } };
    expect(incomplete).toBeDefined();
  });
});

describe('one duration grammar', () => {
  async function usage(argv: string[]): Promise<{ code: number; line: string }> {
    const stderr = memoryStream();
    const code = await main(argv, { stdout: memoryStream(), stderr, env: {} });
    return { code, line: stderr.text().trim() };
  }

  it.each([
    [['create', 'nginx', '--timeout', '90'], '--timeout 90: a duration needs a unit, e.g. 90s or 90ms'],
    [['create', 'nginx', '--observe', '30'], '--observe 30: a duration needs a unit, e.g. 30s or 30ms'],
    [['create', 'nginx', '--runs', '2', '--interval', '5'], '--interval 5: a duration needs a unit, e.g. 5s or 5ms'],
    [['watch', '-l', 'app=web', '--for', '60'], '--for 60: a duration needs a unit, e.g. 60s or 60ms'],
    [['report', 'x.json', '--fail-on', 'ready>5'], '"5" is not a duration'],
    [['diff', 'a.json', 'b.json', '--threshold', 'pull=1'], 'is neither a percentage (10%) nor a duration'],
  ])('%j: a number without a unit is refused, exit 2', async (argv, message) => {
    const { code, line } = await usage(argv);
    expect(code).toBe(EXIT.usage);
    expect(line).toContain(message);
    expect(line.split('\n')).toHaveLength(1);
  });

  it('the same units everywhere: ms, s, m, h and their sums', () => {
    const values = readOptions(CREATE_OPTIONS, { timeout: '1m30s', observe: '1.5s', interval: '250ms', failOn: ['ready>1h'] });
    expect([values.timeoutMs, values.observeMs, values.intervalMs, values.gates[0]!.limitMs]).toEqual([90_000, 1500, 250, 3_600_000]);
  });

  it('a bad value is a usage error that names its flag', () => {
    expect(() => readOptions(CREATE_OPTIONS, { expose: '70000' })).toThrow(UsageError);
    expect(() => readOptions(CREATE_OPTIONS, { expose: '70000' })).toThrow(/^--expose 70000/);
    expect(() => readOptions(WATCH_OPTIONS, { count: '0' })).toThrow(/^--count 0/);
  });
});
