// Target 6, API cost: the requests podtrace makes per traced pod, counted by
// the API server itself. The local cluster audits users of the group
// podtrace:audited (hack/cluster.sh writes the policy); this benchmark signs
// such a certificate with the cluster CA and runs podtrace with it:
//   1. `podtrace create nginx`: one pod, every request of one run;
//   2. `podtrace watch -l` while a Deployment of BENCH_PODS (20) replicas starts
//      (the Deployment itself is created with the admin credentials, not counted).
// kubectl run + wait is counted the same way, as the baseline.
//   node bench/api-cost.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { heading, kubectl, kubectlPath, KUBECONFIG, PODTRACE, prepare, sleep, table, timed } from './lib.mjs';

const PODS = Number(process.env.BENCH_PODS ?? 20);
const PKI = '/var/lib/podtrace-cluster/pki';
const AUDIT = '/var/lib/podtrace-cluster/logs/audit.log';
prepare();
heading(`API cost: requests per traced pod, from the API server's audit log (1 pod; ${PODS} pods of a Deployment)`);

const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-api-cost-'));
const quiet = { stdio: 'ignore' };
execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', `${dir}/u.key`, '-out', `${dir}/u.csr`, '-subj', '/O=system:masters/O=podtrace:audited/CN=podtrace-bench'], quiet);
execFileSync('openssl', ['x509', '-req', '-in', `${dir}/u.csr`, '-CA', `${PKI}/ca.crt`, '-CAkey', `${PKI}/ca.key`, '-CAcreateserial', '-days', '1', '-out', `${dir}/u.crt`], quiet);
const audited = path.join(dir, 'audited.kubeconfig');
writeFileSync(
  audited,
  readFileSync(KUBECONFIG, 'utf8')
    .replace(/client-certificate-data: \S+/, `client-certificate-data: ${readFileSync(`${dir}/u.crt`).toString('base64')}`)
    .replace(/client-key-data: \S+/, `client-key-data: ${readFileSync(`${dir}/u.key`).toString('base64')}`),
  { mode: 0o600 },
);

/** The audit entries written while `action` ran: one per request (watches counted once, when opened). */
async function counted(action) {
  const from = statSync(AUDIT, { throwIfNoEntry: false })?.size ?? 0;
  await action();
  await sleep(1500);
  const text = readFileSync(AUDIT).subarray(from).toString('utf8');
  const seen = new Map();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line);
    if (!e.user?.groups?.includes('podtrace:audited')) continue;
    const resource = [e.objectRef?.resource, e.objectRef?.subresource].filter(Boolean).join('/') || e.requestURI.split('?')[0];
    seen.set(e.auditID, `${e.verb} ${resource}`);
  }
  const byKind = new Map();
  for (const kind of seen.values()) byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  return byKind;
}

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
