// Target 1, CLI start: `podtrace --help` against `node -e 0` (target: within
// 2x), the unbundled build (tsc output, every module loaded as a file) and
// `kubectl version --client`; and how soon after process start `podtrace
// create` sends its first API request (target: 300 ms), against kubectl's
// first request. The API server is a local TCP listener that records the
// connection and closes it, so nothing is created.
// With BENCH_BASELINE_REF=<git ref>, that commit's bundle (built from `git archive` into a
// temporary directory) is measured in the same runs, for a before/after in one run.
//   node bench/cli-start.mjs            (BENCH_RUNS=20 by default)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { heading, kubectlPath, KUBECONFIG, ms, PODTRACE, prepare, REPO, stats, table, timed } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
prepare({ cluster: false });
heading(`CLI start (${RUNS} runs each, alternating)`);

// The unbundled build: the same sources compiled file by file.
const unbundled = mkdtempSync(path.join(tmpdir(), 'podtrace-unbundled-'));
writeFileSync(
  path.join(unbundled, 'tsconfig.json'),
  JSON.stringify({ extends: path.join(REPO, 'tsconfig.json'), compilerOptions: { noEmit: false, outDir: unbundled, rootDir: REPO, typeRoots: [path.join(REPO, 'node_modules', '@types')] }, include: [path.join(REPO, 'src')] }),
);
execFileSync(path.join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', path.join(unbundled, 'tsconfig.json')], { stdio: 'inherit' });
symlinkSync(path.join(REPO, 'node_modules'), path.join(unbundled, 'node_modules'));
writeFileSync(path.join(unbundled, 'podtrace.mjs'), "import { main } from './src/cli.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");

// The bundle of another commit, built the way its own build script says.
const BASELINE_REF = process.env.BENCH_BASELINE_REF;
let baselineBin;
if (BASELINE_REF) {
  const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-baseline-'));
  execFileSync('bash', ['-c', `git -C "$1" archive "$2" bin scripts src package.json | tar -x -C "$3"`, 'archive', REPO, BASELINE_REF, dir], { stdio: 'inherit' });
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(process.execPath, [path.join(dir, 'scripts', 'build.mjs')], { cwd: dir, stdio: 'inherit' });
  baselineBin = path.join(dir, 'bin', 'podtrace.js');
}
const atBaseline = `at ${BASELINE_REF}`;

const subjects = [
  ['node -e 0 (baseline)', process.execPath, ['-e', '0']],
  ['podtrace --help (bundle)', process.execPath, [PODTRACE, '--help']],
  ...(baselineBin ? [[`podtrace --help (bundle ${atBaseline})`, process.execPath, [baselineBin, '--help']]] : []),
  ['podtrace --help (unbundled)', process.execPath, [path.join(unbundled, 'podtrace.mjs'), '--help']],
  ['kubectl version --client', kubectlPath(), ['version', '--client']],
];
const times = new Map(subjects.map(([name]) => [name, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, cmd, args] of subjects) {
    const r = await timed(cmd, args);
    if (r.code !== 0) throw new Error(`${name} exited ${r.code}: ${r.stderr}`);
    times.get(name).push(r.ms);
  }
}
const base = stats(times.get(subjects[0][0])).median;
console.log(
  table(
    ['command', 'median', 'p90', 'min', 'x node -e 0'],
    subjects.map(([name]) => {
      const s = stats(times.get(name));
      return [name, ms(s.median), ms(s.p90), ms(s.min), `${(s.median / base).toFixed(2)}x`];
    }),
  ),
);

// First API request: a listener that notes when the connection arrives, closes it and ends the
// command (kubectl would retry for seconds; podtrace gives up by itself, but need not).
let arrived;
let current;
const server = createServer((socket) => {
  arrived ??= performance.now();
  socket.destroy();
  current?.kill('SIGKILL');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const kubeconfig = path.join(unbundled, 'proxy.kubeconfig');
const pointed = readFileSync(KUBECONFIG, 'utf8').replace(/server: https:\/\/\S+/, `server: https://127.0.0.1:${port}`);
// (the server is on the node address since the cluster grew a second node: a kubeconfig left
// pointing at the cluster made real pods and measured nothing)
if (!pointed.includes(`server: https://127.0.0.1:${port}`)) throw new Error(`${KUBECONFIG}: no server line to point at the listener`);
writeFileSync(kubeconfig, pointed);

function firstRequest(cmd, args) {
  arrived = undefined;
  return new Promise((resolve) => {
    const started = performance.now();
    current = spawn(cmd, args, { stdio: 'ignore' });
    current.on('close', () => resolve(arrived === undefined ? NaN : arrived - started));
  });
}
const first = { podtrace: [], baseline: [], unbundled: [], kubectl: [] };
for (let i = 0; i < RUNS; i++) {
  first.podtrace.push(await firstRequest(process.execPath, [PODTRACE, 'create', 'nginx', '--kubeconfig', kubeconfig, '-q']));
  if (baselineBin) first.baseline.push(await firstRequest(process.execPath, [baselineBin, 'create', 'nginx', '--kubeconfig', kubeconfig, '-q']));
  first.unbundled.push(await firstRequest(process.execPath, [path.join(unbundled, 'podtrace.mjs'), 'create', 'nginx', '--kubeconfig', kubeconfig, '-q']));
  first.kubectl.push(await firstRequest(kubectlPath(), ['--kubeconfig', kubeconfig, 'get', 'pods']));
}
server.close();
console.log('\nfrom process start to the first API request (TCP connect)\n');
console.log(
  table(
    ['command', 'median', 'p90', 'max', 'target'],
    [
      ['podtrace create nginx (bundle)', first.podtrace, '300ms'],
      ...(baselineBin ? [[`podtrace create nginx (bundle ${atBaseline})`, first.baseline, '']] : []),
      ['podtrace create nginx (unbundled)', first.unbundled, ''],
      ['kubectl get pods', first.kubectl, ''],
    ].map(([name, values, target]) => {
      const s = stats(values);
      return [name, ms(s.median), ms(s.p90), ms(s.max), target];
    }),
  ),
);
