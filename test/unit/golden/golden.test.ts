/**
 * Golden outputs: every recorded fixture replayed in every output format
 * (replay -o table|json|yaml, and `report` in each of its formats), and the
 * two committed run sets through `report` (one and two sets) and `diff`,
 * all through the CLI in-process. The files under test/fixtures/golden/ were
 * made by the code before the architecture change and must stay byte for
 * byte what it prints. `GOLDEN_UPDATE=1` rewrites them: only for an intended
 * change of output, reviewed in the diff.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { memoryStream } from '../cli/fake-kube.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const GOLDEN = path.join(FIXTURES, 'golden');
const INPUTS = path.join(GOLDEN, 'inputs');
const UPDATE = process.env['GOLDEN_UPDATE'] === '1';
const REPORT_FORMATS = ['table', 'json', 'csv', 'markdown', 'html', 'chrome-trace', 'otlp'] as const;

const recordings = ['recordings', 'compare'].flatMap((dir) =>
  readdirSync(path.join(FIXTURES, dir))
    .filter((f) => f.endsWith('.ndjson'))
    .sort()
    .map((f) => ({ name: `${dir}-${f.replace(/\.ndjson$/, '')}`, file: path.join(FIXTURES, dir, f) })),
);

async function cli(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = memoryStream({ columns: 100 });
  const stderr = memoryStream();
  const code = await main(argv, { stdout, stderr, env: {}, cwd });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The output and exit code as one text, so a changed code shows like a changed line. */
function expectGolden(file: string, result: { code: number; stdout: string }): void {
  // Paths the output names are the fixtures' own: written relative to the
  // fixtures directory so the files hold wherever the repository is cloned.
  const actual = `${result.stdout.split(FIXTURES).join('<fixtures>/')}\n--- exit ${result.code}\n`;
  const target = path.join(GOLDEN, file);
  if (UPDATE || !existsSync(target)) {
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, actual);
    if (!UPDATE) throw new Error(`${file}: no golden output yet; written now, check it in`);
    return;
  }
  expect(actual, file).toBe(readFileSync(target, 'utf8'));
}

describe('golden outputs of every fixture', () => {
  it.each(recordings)('$name: replay and report, every format', async ({ name, file }) => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-golden-'));
    for (const format of ['table', 'json', 'yaml']) {
      const args = ['replay', file, '-o', format, ...(format === 'json' ? ['--out', 'trace.json'] : [])];
      expectGolden(`${name}/replay.${format}.txt`, await cli(args, cwd));
    }
    for (const format of REPORT_FORMATS) {
      expectGolden(`${name}/report.${format}.txt`, await cli(['report', path.join(cwd, 'trace.json'), '-o', format], cwd));
    }
  });
});

describe('golden outputs of run sets', () => {
  const warm = path.join(INPUTS, 'big-warm.runset.json');
  const cold = path.join(INPUTS, 'big-cold.runset.json');
  it.each(REPORT_FORMATS)('report of one and of two sets: %s', async (format) => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-golden-'));
    expectGolden(`runsets/report-warm.${format}.txt`, await cli(['report', warm, '-o', format], cwd));
    expectGolden(`runsets/report-warm-cold.${format}.txt`, await cli(['report', warm, cold, '-o', format], cwd));
  });
  it.each(['table', 'json', 'markdown'])('diff of two sets: %s', async (format) => {
    // Named relative to their directory: the table cuts long names to its
    // width, so an absolute path would make the output depend on the clone's.
    const args = ['diff', path.basename(warm), path.basename(cold), '-o', format];
    expectGolden(`runsets/diff-warm-cold.${format}.txt`, await cli(args, INPUTS));
  });
});

describe('golden output of the run set summary (create --runs, watch)', () => {
  it.each(['big-warm', 'big-cold'])('%s', async (name) => {
    const { parseRunSetOrTrace } = await import('../../../src/analysis/runset.js');
    const { renderRunSetSummary, renderRunSetYaml } = await import('../../../src/report/runset-summary.js');
    const set = parseRunSetOrTrace(readFileSync(path.join(INPUTS, `${name}.runset.json`), 'utf8'), name);
    expectGolden(`runsets/summary-${name}.table.txt`, { code: 0, stdout: renderRunSetSummary(set, { color: false, width: 100 }) });
    expectGolden(`runsets/summary-${name}.yaml.txt`, { code: 0, stdout: renderRunSetYaml(set) });
  });
});
