// Target 2, overhead: `podtrace create nginx` until Ready against `kubectl run`
// + `kubectl wait --for=condition=Ready`, same image, same cluster,
// alternating, BENCH_RUNS (10) each. podtrace runs with --keep so both stop at
// Ready (its default also deletes the pod and traces the teardown; that row is
// printed for information). Target: ratio of medians at most 1.05.
// The traces are kept in bench/out/overhead/ for the precision benchmark.
//   node bench/overhead.mjs
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { heading, kubectl, kubectlPath, KUBECONFIG, ms, PODTRACE, prepare, REPO, sleep, stats, table, timed } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
prepare();
heading(`Overhead: podtrace create vs kubectl run + wait (${RUNS} runs each, alternating, image nginx present on the node)`);
const out = path.join(REPO, 'bench', 'out', 'overhead');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const stamp = Date.now().toString(36);
const gone = (name) => kubectl('delete', 'pod', name, '--wait=true', '--timeout=90s', '--ignore-not-found');
const kubectlRun = async (name) => {
  const started = performance.now();
  const run = await timed(kubectlPath(), ['--kubeconfig', KUBECONFIG, 'run', name, '--image=nginx', '--restart=Never']);
  if (run.code !== 0) throw new Error(`kubectl run: ${run.stderr}`);
  const wait = await timed(kubectlPath(), ['--kubeconfig', KUBECONFIG, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s']);
  if (wait.code !== 0) throw new Error(`kubectl wait: ${wait.stderr}`);
  return performance.now() - started;
};
// Where podtrace's time goes, from its own recording: each stage ends at a client observation.
const STAGES = [
  ['node and the CLI bundle loaded', (rec) => rec.header.startedAt],
  ['Kubernetes client loaded, kubeconfig read', (rec) => at(rec, 'kubeconfig-loaded')],
  ['version, identity and access reviews', (rec) => Math.max(...['server-version', 'self-subject-review', 'access-review'].map((t) => at(rec, t, 'last')))],
  ['pod and event watches open', (rec) => at(rec, 'watch-started', 'last', 3)],
  ['POST sent', (rec) => at(rec, 'post-sent')],
  ['Ready seen (pod watch)', (rec) => rec.observations.filter((o) => o.source === 'pod').at(-1).observedAt],
  ['process ended (trace written)', (rec) => rec.endedAt],
];
function at(rec, type, which = 'first', limit = Infinity) {
  const found = rec.observations.filter((o) => o.source === 'client' && o.type === type).slice(0, limit);
  return (which === 'first' ? found[0] : found.at(-1))?.observedAt ?? NaN;
}
const stageRuns = [];
// `record`: also save the recording (an extra file written at the end), for the stage table only.
const podtrace = async (name, keep, record = false) => {
  const args = [PODTRACE, 'create', 'nginx', '--name', name, '--kubeconfig', KUBECONFIG, '-q', '-o', 'json', '--out', path.join(out, `${name}.json`)];
  const recordTo = path.join(out, `${name}.ndjson`);
  const spawnedAt = performance.timeOrigin + performance.now();
  const r = await timed(process.execPath, [...args, ...(keep ? ['--keep'] : []), ...(record ? ['--record', recordTo] : [])]);
  if (r.code !== 0) throw new Error(`podtrace exited ${r.code}: ${r.stderr}`);
  if (record) {
    const [header, ...observations] = readFileSync(recordTo, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const rec = { header, observations, endedAt: spawnedAt + r.ms };
    stageRuns.push(STAGES.map(([, end]) => end(rec) - spawnedAt));
  }
  return r.ms;
};

// one of each first, not counted: the node has the image and both paths are warm
await kubectlRun(`bench-warm-k-${stamp}`);
gone(`bench-warm-k-${stamp}`);
await podtrace(`bench-warm-p-${stamp}`, true);
gone(`bench-warm-p-${stamp}`);

const k = [];
const p = [];
for (let i = 0; i < RUNS; i++) {
  // alternate which goes first, so a drift in the cluster hits both alike
  const order = i % 2 === 0 ? ['p', 'k'] : ['k', 'p'];
  for (const which of order) {
    const name = `bench-${which}-${stamp}-${i}`;
    // The kubelet notices a started container on its next PLEG relist (every 1 s), and the
    // previous pod's deletion ends on one: starting right after it phase-locks the run to that
    // tick. A random pause spreads every run over the whole period, for both commands alike.
    await sleep(Math.random() * 1000);
    if (which === 'k') k.push(await kubectlRun(name));
    else p.push(await podtrace(name, true));
    gone(name);
  }
}
// The stage table's runs, not counted above: --record writes one more file at the end.
for (let i = 0; i < Math.min(RUNS, 5); i++) {
  const name = `bench-rec-${stamp}-${i}`;
  await sleep(Math.random() * 1000);
  await podtrace(name, true, true);
  gone(name);
}
const full = [];
for (let i = 0; i < 3; i++) full.push(await podtrace(`bench-full-${stamp}-${i}`, false));

const sk = stats(k);
const sp = stats(p);
const sf = stats(full);
console.log(
  table(
    ['command', 'n', 'median', 'p90', 'min', 'max', 'ratio of medians'],
    [
      ['kubectl run + kubectl wait (baseline)', sk.n, ms(sk.median), ms(sk.p90), ms(sk.min), ms(sk.max), '1.00'],
      ['podtrace create nginx --keep', sp.n, ms(sp.median), ms(sp.p90), ms(sp.min), ms(sp.max), (sp.median / sk.median).toFixed(3)],
      ['podtrace create nginx (default: + delete, teardown traced)', sf.n, ms(sf.median), ms(sf.p90), ms(sf.min), ms(sf.max), (sf.median / sk.median).toFixed(3)],
    ],
  ),
);
console.log(`\ntarget: podtrace --keep / kubectl at most 1.05; traces and recordings in ${path.relative(REPO, out)}/`);

// podtrace --keep, stage by stage, from the recordings of separate runs ("since start" from the spawn).
console.log(`\npodtrace create nginx --keep --record, stage by stage (${stageRuns.length} more runs; each column its own median, so stages do not add up exactly)`);
console.log(
  table(
    ['stage ends when', 'since start', 'stage'],
    STAGES.map(([label], i) => {
      const since = stats(stageRuns.map((r) => r[i])).median;
      const stage = stats(stageRuns.map((r) => r[i] - (i === 0 ? 0 : r[i - 1]))).median;
      return [label, ms(since), ms(stage)];
    }),
  ),
);
