// Target 4 (memory O(pods in flight)): what `watch` keeps per pod still starting.
// No cluster: the pod and event observations of a real run (a recording captured
// from the local cluster) are parsed again for BENCH_IN_FLIGHT (3000) pods, each
// under its own name and uid as the API server would send them, and routed through
// the watch's demux without any pod becoming done. Baseline, in the same run: the
// same observations kept as received (what the demux kept before it shared the
// parts a pod's versions repeat).
//   node --expose-gc bench/in-flight.mjs
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { heading, prepare, REPO, table } from './lib.mjs';

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc bench/in-flight.mjs');
const PODS = Number(process.env.BENCH_IN_FLIGHT ?? 3000);
const RECORDING = process.env.BENCH_RECORDING ?? path.join(REPO, 'test/fixtures/recordings/ready-nginx.ndjson');
prepare({ cluster: false });
// the demux as the CLI runs it (its TypeScript has parameter properties, which Node's type stripping refuses)
const bundled = await build({ entryPoints: [path.join(REPO, 'src/collect/pod-demux.ts')], bundle: true, format: 'esm', platform: 'node', write: false });
const { PodDemux, withoutManagedFields } = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`);
heading(`In flight: what watch keeps for ${PODS} pods still starting (${path.basename(RECORDING)})`);

const [headerLine, ...lines] = readFileSync(RECORDING, 'utf8').trim().split('\n');
const podName = JSON.parse(headerLine).podName;
// the pod's own stream, from its creation on: its versions and the events about it (the replayed LIST of old events left out)
// BENCH_SOURCES=pod keeps the pod's versions alone (a kwok node's pods have hardly any events)
const sources = (process.env.BENCH_SOURCES ?? 'pod,event,eventsv1').split(',');
const kept = lines.filter((line) => {
  const o = JSON.parse(line);
  return sources.includes(o.source) && o.type !== 'LIST' && !(o.source === 'pod' && o.type === 'DELETED');
});
const uid = lines.map((l) => JSON.parse(l)).find((o) => o.source === 'pod')?.object?.metadata?.uid;

/** The lines of pod i, as the API server would send them: its own name and uid. */
function podLines(i) {
  const name = `${podName}-${i}`;
  return kept.map((line) => line.replaceAll(podName, name).replaceAll(uid, `${uid.slice(0, -6)}${String(i).padStart(6, '0')}`));
}

function heapAfterGc() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

function asReceived() {
  const held = [];
  for (let i = 0; i < PODS; i++) for (const line of podLines(i)) held.push(withoutManagedFields(JSON.parse(line)));
  return held;
}

function throughDemux() {
  const demux = new PodDemux(0, { podChanged: () => {}, doneChanged: () => {}, newNode: () => {} });
  demux.initialListDone = true;
  for (let i = 0; i < PODS; i++) for (const line of podLines(i)) demux.route(withoutManagedFields(JSON.parse(line)));
  if (demux.pods.size !== PODS) throw new Error(`${demux.pods.size} pods tracked, ${PODS} routed`);
  return demux;
}

/** Heap kept by what `keep` returns, and the time it took; what it returned is dropped on return. */
function measure(keep) {
  const before = heapAfterGc();
  const started = performance.now();
  let held = keep();
  const ms = performance.now() - started;
  const bytes = heapAfterGc() - before;
  held = undefined;
  return { bytes, ms, held };
}

const rows = [];
const perPod = [];
for (const [label, keep] of [
  ['as received (baseline)', asReceived],
  ['demux (versions share what they repeat)', throughDemux],
]) {
  const { bytes, ms } = measure(keep);
  perPod.push(bytes / PODS);
  rows.push([label, `${(bytes / PODS / 1024).toFixed(1)} KiB`, `${(bytes / 2 ** 20).toFixed(1)} MiB`, `${ms.toFixed(0)} ms`]);
}
console.log(`${kept.length} observations per pod (the pod's versions and its events)`);
console.log(table(['kept', 'per pod in flight', `for ${PODS}`, 'to route'], rows));
const [base, demux] = perPod;
console.log(`demux / baseline: ${(demux / base).toFixed(2)}`);
