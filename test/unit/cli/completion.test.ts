/**
 * `podtrace completion`: the scripts, run in the shells themselves (bash, zsh and fish are installed
 * by hack/setup.sh): what they offer for a few partial command lines.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/exit-codes.js';
import { main } from '../../../src/cli.js';
import { memoryStream } from './fake-kube.js';

async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = memoryStream();
  const stderr = memoryStream();
  const code = await main(argv, { stdout, stderr, env: {} });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-completion-'));

async function script(shell: string): Promise<string> {
  const { code, stdout, stderr } = await runCli(['completion', shell]);
  expect(code, stderr).toBe(EXIT.ok);
  const file = path.join(dir, `podtrace.${shell}`);
  writeFileSync(file, stdout);
  return file;
}

/** What bash's completion offers for the words typed so far (the last one being completed). */
function bashOffers(file: string, typed: string[]): string[] {
  const words = typed.map((w) => `'${w}'`).join(' ');
  const out = execFileSync('bash', ['-c', `source '${file}'; COMP_WORDS=(${words}); COMP_CWORD=${typed.length - 1}; _podtrace; printf '%s\\n' "\${COMPREPLY[@]}"`], { cwd: dir, encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

describe('podtrace completion', () => {
  it('bash: commands, a command’s flags, a flag’s fixed values, as podtrace and as kubectl podtrace', async () => {
    const file = await script('bash');
    expect(bashOffers(file, ['podtrace', 'cr'])).toEqual(['create']);
    expect(bashOffers(file, ['podtrace', 'create', '--pull-policy', 'I'])).toEqual(['IfNotPresent']);
    expect(bashOffers(file, ['podtrace', 'create', '--ti'])).toEqual(['--timeout']);
    expect(bashOffers(file, ['podtrace', 'diff', '--fail-on-r'])).toEqual(['--fail-on-regression']);
    expect(bashOffers(file, ['kubectl', 'podtrace', 'create', '-o', 'y'])).toEqual(['yaml']);
    expect(bashOffers(file, ['podtrace', '--debug', 'report', '-o', 'ht'])).toEqual(['html']);
    // a flag that names a file completes file names
    writeFileSync(path.join(dir, 'pod-manifest.yaml'), 'kind: Pod\n');
    expect(bashOffers(file, ['podtrace', 'create', '-f', 'pod-m'])).toEqual(['pod-manifest.yaml']);
  });

  it('zsh: the script loads (through bashcompinit) and defines the function', async () => {
    const file = await script('zsh');
    const out = execFileSync('zsh', ['-f', '-c', `source '${file}' && whence -w _podtrace`], { cwd: dir, encoding: 'utf8', env: { ...process.env, HOME: dir } });
    expect(out.trim()).toBe('_podtrace: function');
  });

  it('fish: commands, flags and values as fish offers them', async () => {
    const file = await script('fish');
    const offers = (line: string) =>
      execFileSync('fish', ['--no-config', '-c', `source '${file}'; complete -C '${line}'`], { cwd: dir, encoding: 'utf8', env: { ...process.env, HOME: dir } })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    expect(offers('podtrace cr')).toEqual(['create']);
    expect(offers('podtrace create --pull-policy I')).toContain('IfNotPresent');
    expect(offers('kubectl-podtrace report --ou')).toEqual(['--out', '--output']);
  });

  it('an unknown shell: one line, exit 2', async () => {
    const { code, stdout, stderr } = await runCli(['completion', 'powershell']);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toBe('podtrace: completion powershell: give one of bash, zsh, fish (e.g. podtrace completion bash > /etc/bash_completion.d/podtrace)\n');
  });
});
