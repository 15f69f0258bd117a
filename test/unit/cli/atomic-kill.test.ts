/**
 * Atomic writes under SIGKILL (issue: reliability). The built CLI writes a
 * report of several MB over a file that holds an earlier, valid report (or
 * over nothing), and is killed with SIGKILL at a random moment, many times:
 * the target is always absent, the old file or the complete new one, never
 * a torn write. Needs dist/ (hack/test.sh builds before the unit tests).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/analysis/bootstrap.js';
import { makeRunSet } from '../../../src/analysis/runset.js';
import { renderRunSetJson } from '../../../src/report/runset-summary.js';
import { ALL_TRACES } from '../report/fixture-sets.js';

const BIN = fileURLToPath(new URL('../../../bin/podtrace.js', import.meta.url));
const ITERATIONS = 30;
/** Kill moments from a seeded generator: a failure names its seed and repeats with it (PODTRACE_KILL_SEED). */
const SEED = Number(process.env['PODTRACE_KILL_SEED'] ?? 20261206);

const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-atomic-kill-'));
const input = path.join(dir, 'many.runset.json');
const target = path.join(dir, 'report.json');

/** Runs `podtrace report INPUT -o otlp --out TARGET` (OTLP JSON, deterministic), killed with SIGKILL after killAfterMs (never when undefined). */
function report(killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'report', input, '-o', 'otlp', '--out', target], { stdio: 'ignore' });
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: performance.now() - started });
    }),
  );
}

let complete = '';
let fullRunMs = 0;

beforeAll(async () => {
  // Real traces, repeated until the report is several MB: writing it takes long enough to be hit.
  const traces = Array.from({ length: 12 }, () => ALL_TRACES.map(([, t]) => t)).flat();
  writeFileSync(input, renderRunSetJson(makeRunSet(traces, 'many runs', '0.1.0')));
  const first = await report();
  expect(first.code).toBe(0);
  fullRunMs = first.ms;
  complete = readFileSync(target, 'utf8');
  expect(complete.length).toBeGreaterThan(2_000_000);
  JSON.parse(complete);
}, 60_000);

describe('atomic writes', () => {
  it(`a report killed at random ${ITERATIONS} times is never torn`, async () => {
    const old = `${JSON.stringify({ note: 'an earlier report' })}\n`;
    const outcomes = { absent: 0, old: 0, complete: 0 };
    const random = mulberry32(SEED);
    for (let i = 0; i < ITERATIONS; i++) {
      const fresh = i % 2 === 0;
      if (fresh) rmSync(target, { force: true });
      else writeFileSync(target, old);
      // spread the kill over the whole run and past its end (some runs must finish)
      const result = await report(random() * fullRunMs * 1.6);
      if (result.signal === null) expect(result.code).toBe(0);
      if (!existsSync(target)) {
        expect(fresh).toBe(true);
        outcomes.absent++;
        continue;
      }
      const text = readFileSync(target, 'utf8');
      if (text === old) {
        outcomes.old++;
      } else {
        // anything else must be the whole new report, byte for byte
        expect(text.length).toBe(complete.length);
        expect(text === complete).toBe(true);
        outcomes.complete++;
      }
    }
    console.log(`atomic-kill: ${JSON.stringify(outcomes)} in ${ITERATIONS} kills, seed ${SEED} (a full run takes ${Math.round(fullRunMs)} ms)`);
    // the loop proves something only if kills landed both before and after the rename
    expect(outcomes.absent + outcomes.old).toBeGreaterThan(0);
    expect(outcomes.complete).toBeGreaterThan(0);
    // temp files a SIGKILL left behind never carry the target's name
    for (const f of readdirSync(dir)) {
      if (f !== 'report.json' && f !== 'many.runset.json') expect(f).toMatch(/^\.report\.json\.\d+\.[0-9a-f]{8}\.tmp$/);
    }
  }, 120_000);
});
