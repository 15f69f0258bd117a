/**
 * `podtrace create` options a user relies on every day, on the real cluster:
 * --keep, --port, --context, -o yaml, the default ./traces/ path, and the live
 * spinner, which is on for a terminal only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { schemaErrors } from '../unit/trace/schema-validator.js';
import { REPO_DIR } from './cluster-provider.js';
import { clients, deletePod, kubeconfigPath, NAMESPACE, runPodtrace, type CliResult } from './harness.js';

/** ora's default spinner frames (braille dots). */
const SPINNER_FRAME = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

/** Runs the CLI under `script`, so that stdin, stdout and stderr are a terminal; returns what the terminal showed. */
function inTerminal(args: string[], cwd: string): Promise<CliResult> {
  const command = [process.execPath, `${REPO_DIR}/bin/podtrace.js`, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
  return new Promise((resolve) => {
    execFile(
      'script',
      ['-qefc', command, '/dev/null'],
      { cwd, env: { ...process.env, NO_COLOR: '1', TERM: 'xterm-256color', COLUMNS: '120' }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** What a terminal shows, near enough: escape sequences dropped, carriage returns as line ends. */
function plain(output: string): string {
  // eslint-disable-next-line no-control-regex
  return output.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r\n?/g, '\n');
}

async function podtracePods(): Promise<string[]> {
  const list = await clients().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=podtrace' });
  return list.items.map((p) => String(p.metadata?.name));
}

let cwd: string;
const kept: string[] = [];
beforeAll(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-options-'));
});
afterEach(async () => {
  await Promise.all(kept.splice(0).map((name) => deletePod(name)));
  expect(await podtracePods()).toEqual([]);
});

describe('podtrace create options', () => {
  it('--keep leaves the Ready pod (with --port) in place; --context picks the context; -o yaml prints the trace; it is saved under ./traces/', async () => {
    const context = clients().kc.getCurrentContext();
    const result = await runPodtrace(
      ['create', 'nginx', '--keep', '--port', '80', '--requests', 'cpu=100m,memory=64Mi', '--context', context, '--kubeconfig', kubeconfigPath(), '-o', 'yaml'],
      cwd,
    );
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const trace = parseYaml(result.stdout) as Trace;
    kept.push(trace.pod.name);
    expect(schemaErrors(trace)).toEqual([]);
    expect(trace.cluster?.context).toBe(context);
    expect(trace.outcome.class).toBe('ready');
    expect(trace.run.options.keep).toBe(true);
    expect(trace.milestones.filter((m) => m.id.startsWith('teardown.'))).toEqual([]);
    // requests beside the node's allocatable, and the QoS class they make
    expect(trace.pod.qosClass).toBe('Burstable');
    expect(trace.node?.resources.cpu).toMatchObject({ requested: '100m', requestedValue: 100 });
    expect(trace.node?.resources.cpu?.allocatableValue).toBeGreaterThanOrEqual(1000);
    expect(trace.node?.resources.memory).toMatchObject({ requestedValue: 64 * 1024 * 1024 });

    // the pod is still there, Ready, with the port asked for
    const pod = await clients().core.readNamespacedPod({ name: trace.pod.name, namespace: NAMESPACE });
    expect(pod.metadata?.deletionTimestamp).toBeUndefined();
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(pod.spec?.containers[0]?.ports).toEqual([expect.objectContaining({ containerPort: 80, protocol: 'TCP' })]);
    expect(result.stderr).toContain(`kubectl delete pod -n ${NAMESPACE} ${trace.pod.name}`);

    // saved by default to ./traces/<name>-<timestamp>.json, the path printed, the same trace
    const saved = readdirSync(path.join(cwd, 'traces'));
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatch(new RegExp(`^${trace.pod.name}-\\d{8}T\\d{6}Z?\\.json$`));
    expect(result.stderr).toContain(path.join('traces', saved[0]!));
    expect(JSON.parse(readFileSync(path.join(cwd, 'traces', saved[0]!), 'utf8'))).toEqual(trace);
    // nothing but the trace on stdout, and no spinner without a terminal
    expect(result.stderr).not.toMatch(SPINNER_FRAME);
  });

  it('shows a spinner and one line per step on a terminal, and none with -o json', async () => {
    // the pty `script` makes has no size: 0 columns, which the spinner must survive
    const table = await inTerminal(['create', 'nginx', '--kubeconfig', kubeconfigPath(), '--out', 'tty.json'], cwd);
    expect(table.code, table.stdout.slice(-2000)).toBe(EXIT.ok);
    expect(table.stdout.length).toBeLessThan(200_000);
    expect(table.stdout).toMatch(SPINNER_FRAME);
    // one line per finished step: time since start, then the step
    const shown = plain(table.stdout);
    expect(shown).toMatch(/✔ +\d+\.\d{3}s {2}POST pod sent\n/);
    expect(shown).toMatch(/✔ +\d+\.\d{3}s {2}pod Ready\n/);
    // the step in progress is never a failure of a run that goes well
    expect(shown).not.toMatch(/\(failed\)|no node fits|then exits/);
    expect(shown).toMatch(/│ step\s+│\s+start │ duration │ source\/precision │/);

    const json = await inTerminal(['create', 'nginx', '--kubeconfig', kubeconfigPath(), '-o', 'json', '--out', 'tty-json.json'], cwd);
    expect(json.code, json.stdout.slice(-2000)).toBe(EXIT.ok);
    expect(json.stdout).not.toMatch(SPINNER_FRAME);
    expect(plain(json.stdout)).not.toMatch(/✔/);
    expect((JSON.parse(json.stdout.slice(json.stdout.indexOf('{'), json.stdout.lastIndexOf('}') + 1)) as Trace).outcome.class).toBe('ready');
  });
});
