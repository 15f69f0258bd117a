import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { EXIT } from '../../../src/exit-codes.js';
import { memoryStream } from './fake-kube.js';

const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-replay-'));
const write = (name: string, content: string): string => {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
};

const header = {
  kind: 'podtrace-recording',
  version: 1,
  toolVersion: '0.1.0',
  startedAt: 1_700_000_000_000,
  namespace: 'default',
  podName: 'web',
  options: { keep: false, timeoutMs: 300_000, image: 'nginx' },
};
const observation = (seq: number, type: string, data: Record<string, unknown> = {}) =>
  JSON.stringify({ seq, source: 'client', type, observedAt: 1_700_000_000_000 + seq, data });

async function replay(args: string[]) {
  const stdout = memoryStream();
  const stderr = memoryStream();
  const code = await main(['replay', ...args], { stdout, stderr, env: {}, cwd: dir });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('replay', () => {
  it('rebuilds the trace offline and exits with the recorded outcome', async () => {
    const file = write(
      'rejected.ndjson',
      [
        JSON.stringify(header),
        observation(0, 'kubeconfig-loaded', { context: 'kind', server: 'https://127.0.0.1:6443' }),
        observation(1, 'post-sent'),
        observation(2, 'post-error', { status: 422, reason: 'Invalid', message: 'Pod "web" is invalid: spec.containers: Required value' }),
        observation(3, 'done', { reason: 'post-error' }),
      ].join('\n') + '\n',
    );
    const { code, stdout, stderr } = await replay([file, '-o', 'json', '--out', 'out/trace.json']);
    expect(JSON.parse(stdout).outcome.class).toBe('validation-rejected');
    expect(code).toBe(EXIT.validationRejected);
    expect(stderr).toBe('trace saved to out/trace.json\n');
    const yaml = await replay([file, '-o', 'yaml']);
    expect(yaml.stdout).toMatch(/validation-rejected/);
    const table = await replay([file]);
    expect(table.stdout).toMatch(/web/);
  });

  it.each([
    ['missing.ndjson', null, /cannot read recording missing\.ndjson: no such file/],
    ['empty.ndjson', '', /empty\.ndjson: /],
    ['not-json.ndjson', 'hello world\n', /not-json\.ndjson: line 1: not JSON/],
    ['trace.ndjson', JSON.stringify({ schemaVersion: 1, tool: 'podtrace' }) + '\n', /trace\.ndjson: /],
    ['truncated.ndjson', JSON.stringify(header) + '\n' + observation(0, 'post-sent') + '\n{"seq":1,"sou', /truncated\.ndjson: line 3: truncated/],
    ['future.ndjson', JSON.stringify({ ...header, version: 99 }) + '\n', /future\.ndjson: /],
  ])('a bad file (%s) is one line and exit 7', async (name, content, message) => {
    const file = content === null ? name : write(name, content);
    const { code, stdout, stderr } = await replay([file]);
    expect(code).toBe(EXIT.badTraceFile);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/^podtrace: /);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
