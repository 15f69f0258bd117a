// Target 6, API cost: the requests podtrace makes per traced pod, counted by
// the API server itself. The local cluster audits users of the group
// podtrace:audited (hack/cluster.sh writes the policy); this benchmark signs
// such a certificate with the cluster CA and runs podtrace with it:
//   1. `podtrace create nginx`: one pod, every request of one run;
//   2. `podtrace watch -l` while a Deployment of BENCH_PODS (20) replicas starts
//      (the Deployment itself is created with the admin credentials, not counted).
// kubectl run + wait is counted the same way, as the baseline.
//   node bench/api-cost.mjs
import path from 'node:path';
import { auditedKubeconfig, countRequests, heading, kubectl, kubectlPath, PODTRACE, prepare, sleep, table, timed } from './lib.mjs';

const PODS = Number(process.env.BENCH_PODS ?? 20);
prepare();
heading(`API cost: requests per traced pod, from the API server's audit log (1 pod; ${PODS} pods of a Deployment)`);

const { kubeconfig: audited, dir } = auditedKubeconfig();
const counted = (action) => countRequests(action);

const stamp = Date.now().toString(36);
const create = await counted(async () => {
  const r = await timed(process.execPath, [PODTRACE, 'create', 'nginx', '--name', `cost-${stamp}`, '--kubeconfig', audited, '-q', '-o', 'json', '--out', '/dev/null']);
  if (r.code !== 0) throw new Error(`podtrace: ${r.stderr}`);
});
const baseline = await counted(async () => {
  await timed(kubectlPath(), ['--kubeconfig', audited, 'run', `cost-k-${stamp}`, '--image=nginx', '--restart=Never']);
  await timed(kubectlPath(), ['--kubeconfig', audited, 'wait', '--for=condition=Ready', `pod/cost-k-${stamp}`, '--timeout=120s']);
  await timed(kubectlPath(), ['--kubeconfig', audited, 'delete', 'pod', `cost-k-${stamp}`, '--wait=true']);
});

const app = `cost-${stamp}`;
const watch = await counted(async () => {
  const run = timed(process.execPath, [PODTRACE, 'watch', '-l', `app=${app}`, '--count', String(PODS), '--for', '10m', '--kubeconfig', audited, '-q', '-o', 'json', '--out', path.join(dir, 'set.json')]);
  await sleep(1500);
  kubectl('create', 'deployment', app, '--image=nginx', `--replicas=${PODS}`);
  const r = await run;
  if (r.code !== 0) throw new Error(`podtrace watch exited ${r.code}: ${r.stderr}`);
});
kubectl('delete', 'deployment', app, '--wait=true');

const kinds = [...new Set([...create.keys(), ...baseline.keys(), ...watch.keys()])].sort();
const total = (m) => [...m.values()].reduce((a, b) => a + b, 0);
const perPod = (n) => (Number.isInteger(n / PODS) ? String(n / PODS) : (n / PODS).toFixed(2));
console.log(
  table(
    ['request', 'kubectl run + wait + delete (1 pod)', 'podtrace create (1 pod)', `podtrace watch (${PODS} pods)`, 'watch, per pod'],
    [
      ...kinds.map((k) => [k, baseline.get(k) ?? 0, create.get(k) ?? 0, watch.get(k) ?? 0, perPod(watch.get(k) ?? 0)]),
      ['total', total(baseline), total(create), total(watch), perPod(total(watch))],
    ],
  ),
);
console.log(`\nwatch connections opened by podtrace watch for ${PODS} pods: ${[...watch.entries()].filter(([k]) => k.startsWith('watch ')).reduce((a, [, n]) => a + n, 0)}`);
