/**
 * The npm package as users install it (issue: distribution): `npm pack` builds first (prepack),
 * the tarball carries the self-contained bundle and needs no dependency at install time, and
 * `npm i -g` of it alone gives `podtrace` and the kubectl plugin `kubectl podtrace`, which traces a
 * pod from outside the repository.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { REPO_DIR } from './cluster-provider.js';
import { kubeconfigPath, waitForPodGone } from './harness.js';

const run = promisify(execFile);
const CACHE = process.env['PODTRACE_CACHE'] ?? '/var/cache/podtrace';
const version = (JSON.parse(readFileSync(path.join(REPO_DIR, 'package.json'), 'utf8')) as { version: string }).version;

function kubectlDir(): string {
  const dir = readdirSync(`${CACHE}/bin`).find((d) => d.startsWith('kubernetes-'));
  return `${CACHE}/bin/${dir}`;
}

describe('the npm package', () => {
  it('npm pack, npm i -g of the tarball alone, then podtrace --version and kubectl podtrace create nginx from elsewhere', async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'podtrace-pack-'));
    const { stdout: packed } = await run('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: REPO_DIR, timeout: 180_000 });
    const tarball = path.join(scratch, packed.trim().split('\n').at(-1)!);
    expect(path.basename(tarball)).toBe(`podtrace-${version}.tgz`);
    const { stdout: listing } = await run('tar', ['-tzf', tarball]);
    expect(listing).toContain('package/dist/cli.js');
    expect(listing).toContain('package/bin/podtrace.js');
    expect(listing).not.toMatch(/package\/(src|test|hack)\//);

    const prefix = path.join(scratch, 'prefix');
    // offline: the bundle needs nothing from the registry
    await run('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], { cwd: scratch, timeout: 180_000 });
    const env = { ...process.env, PATH: `${path.join(prefix, 'bin')}:${kubectlDir()}:${path.dirname(process.execPath)}:/usr/bin:/bin`, NO_COLOR: '1' };
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'podtrace-elsewhere-'));
    expect((await run('podtrace', ['--version'], { cwd: elsewhere, env })).stdout.trim()).toContain(version);

    const traced = await run('kubectl', ['podtrace', 'create', 'nginx', '--kubeconfig', kubeconfigPath(), '-q', '-o', 'json'], { cwd: elsewhere, env, timeout: 180_000 }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    expect(traced.code, traced.stdout).toBe(EXIT.ok);
    const trace = JSON.parse(traced.stdout) as Trace;
    expect(trace.outcome.class).toBe('ready');
    expect(trace.toolVersion).toBe(version);
    await waitForPodGone(trace.pod.name, 60_000);
  }, 300_000);

  it('the krew archive: reproducible, its sha256 in deploy/krew/podtrace.yaml, and it runs where it is unpacked', async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'podtrace-krew-'));
    const build = async (dir: string) => {
      const { stdout } = await run('node', [path.join(REPO_DIR, 'scripts', 'release-archive.mjs'), dir, path.join(dir, 'podtrace.yaml')], { cwd: REPO_DIR, timeout: 180_000 });
      return stdout.trim().split('\n').slice(-3);
    };
    const [archive, manifestFile, shaLine] = await build(path.join(scratch, 'a'));
    const again = await build(path.join(scratch, 'b'));
    expect(again[2]).toBe(shaLine); // the same bundle, the same bytes
    const sha = createHash('sha256').update(readFileSync(archive!)).digest('hex');
    expect(shaLine).toBe(`sha256 ${sha}`);
    const manifest = parse(readFileSync(manifestFile!, 'utf8')) as { kind: string; metadata: { name: string }; spec: { version: string; platforms: Array<{ sha256: string; bin: string; uri: string }> } };
    expect(manifest).toMatchObject({ kind: 'Plugin', metadata: { name: 'podtrace' }, spec: { version: `v${version}` } });
    expect(manifest.spec.platforms[0]).toMatchObject({ sha256: sha, bin: 'bin/podtrace.js' });
    expect(manifest.spec.platforms[0]!.uri).toMatch(new RegExp(`/podtrace-v${version.replaceAll('.', '\\.')}\\.tar\\.gz$`));
    // the committed manifest has the same shape (its sha256 is the last release's)
    const committed = parse(readFileSync(path.join(REPO_DIR, 'deploy', 'krew', 'podtrace.yaml'), 'utf8')) as typeof manifest;
    expect(committed.spec.platforms[0]!.bin).toBe('bin/podtrace.js');
    expect(committed.spec.platforms[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    // unpacked as krew would, its bin runs
    const unpacked = path.join(scratch, 'unpacked');
    mkdirSync(unpacked);
    await run('tar', ['-xzf', archive!, '-C', unpacked]);
    expect((await run(process.execPath, [path.join(unpacked, manifest.spec.platforms[0]!.bin), '--version'])).stdout.trim()).toContain(version);
  }, 300_000);
});
