// Builds the release archive the krew manifest points at, and writes that manifest:
//   node scripts/release-archive.mjs [OUT_DIR]      (default: release/)
// The archive (podtrace-v<version>.tar.gz) holds bin/podtrace.js, the bundle (dist/) and
// package.json; it needs Node.js 22.22 or later on PATH (the krew manifest says so). It is
// reproducible: sorted entries, fixed times and owners, gzip without a name or time, so the
// sha256 in deploy/krew/podtrace.yaml is the archive's whoever builds it from the same bundle.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'release'));
const manifestPath = process.argv[3] ? path.resolve(process.argv[3]) : path.join(root, 'deploy', 'krew', 'podtrace.yaml');
const { version, description } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
mkdirSync(out, { recursive: true });
const archive = path.join(out, `podtrace-v${version}.tar.gz`);
const tar = execFileSync(
  'tar',
  ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--mode=go-w', '-cf', '-', 'bin/podtrace.js', 'dist', 'package.json'],
  { cwd: root, maxBuffer: 256 * 1024 * 1024 },
);
const gz = execFileSync('gzip', ['-n', '-9'], { input: tar, maxBuffer: 256 * 1024 * 1024 });
writeFileSync(`${archive}.tmp`, gz);
renameSync(`${archive}.tmp`, archive);
const sha256 = createHash('sha256').update(gz).digest('hex');

const manifest = `# The krew plugin manifest for kubectl podtrace, written by scripts/release-archive.mjs
# with the sha256 of the archive it builds (release/podtrace-v${version}.tar.gz): run it again
# after a change, and publish that archive at the uri below.
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: podtrace
spec:
  version: v${version}
  homepage: https://github.com/podtrace/podtrace
  shortDescription: Time every step of a pod's start, from the request to Ready
  description: |
    ${description}: client, authentication and authorization, admission,
    scheduling, image pull, sandbox and network, container start, readiness,
    each timed with its source and precision; traces are saved, compared,
    gated on in CI and exported as reports.
  caveats: |
    podtrace runs on Node.js 22.22 or later, which must be on PATH.
  platforms:
    - selector:
        matchExpressions:
          - key: os
            operator: In
            values: [linux, darwin]
      uri: https://github.com/podtrace/podtrace/releases/download/v${version}/podtrace-v${version}.tar.gz
      sha256: ${sha256}
      bin: bin/podtrace.js
`;
mkdirSync(path.dirname(manifestPath), { recursive: true });
writeFileSync(`${manifestPath}.tmp`, manifest);
renameSync(`${manifestPath}.tmp`, manifestPath);
process.stdout.write(`${archive}\n${manifestPath}\nsha256 ${sha256}\n`);
