// Shared by the benchmarks: paths, timing, statistics and printing. The
// benchmarks print figures, ratios against a baseline measured in the same
// run; they never fail on a number (CI does not run them).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PODTRACE = path.join(REPO, 'bin', 'podtrace.js');
export const KUBECONFIG = process.env.PODTRACE_BENCH_KUBECONFIG ?? '/var/lib/podtrace-cluster/kubeconfig';
export const CACHE = process.env.PODTRACE_CACHE ?? '/var/cache/podtrace';
/** The environment the benchmarks build their Go tools in (kwok, kube-burner): caches outside the repo, this Go. */
export const GOENV = {
  ...process.env,
  GOMODCACHE: path.join(CACHE, 'go', 'mod'),
  GOCACHE: path.join(CACHE, 'go', 'build'),
  GOTOOLCHAIN: 'local',
  CGO_ENABLED: '0',
  GOFLAGS: '-buildvcs=false',
};

/** The kubectl built with the cluster (same version), else the one on PATH. */
export function kubectlPath() {
  const bin = path.join(CACHE, 'bin');
  const built = existsSync(bin)
    ? readdirSync(bin)
        .filter((d) => d.startsWith('kubernetes-v'))
        .map((d) => path.join(bin, d, 'kubectl'))
        .find((p) => existsSync(p))
    : undefined;
  return built ?? 'kubectl';
}

export function kubectl(...args) {
  return execFileSync(kubectlPath(), ['--kubeconfig', KUBECONFIG, ...args], { encoding: 'utf8' });
}

/** Brings the local cluster up (idempotent) and builds the CLI, so a benchmark is one command. */
export function prepare({ cluster = true } = {}) {
  execFileSync('node', [path.join(REPO, 'scripts', 'build.mjs')], { stdio: 'ignore' });
  if (cluster && !process.env.PODTRACE_BENCH_KUBECONFIG) execFileSync('bash', [path.join(REPO, 'hack', 'cluster.sh'), 'up'], { stdio: 'ignore' });
}

/** Runs a command to its end; resolves to its wall time in ms (from just before spawn) and its output. */
export function timed(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

export function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p90: quantile(s, 0.9), min: s[0], max: s.at(-1) };
}

export function ms(x) {
  if (!Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) >= 1000) return `${(x / 1000).toFixed(2)}s`;
  if (Math.abs(x) >= 10) return `${x.toFixed(0)}ms`;
  return `${x.toFixed(2)}ms`;
}

/** A plain table: a header row, then rows; columns padded, numbers right-aligned. */
export function table(head, rows) {
  const all = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

/** What the figures were measured on: printed with every benchmark. */
export function machine() {
  const cpus = os.cpus();
  let kubectlVersion = 'n/a';
  try {
    kubectlVersion = execFileSync(kubectlPath(), ['version', '--client', '-o', 'json'], { encoding: 'utf8' }).match(/"gitVersion":\s*"([^"]+)"/)?.[1] ?? 'n/a';
  } catch {
    // no kubectl
  }
  return `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, node ${process.version}, kubectl ${kubectlVersion}`;
}

export function heading(title) {
  console.log(`# ${title}\n${machine()}\n`);
}

export function sleep(msToWait) {
  return new Promise((resolve) => setTimeout(resolve, msToWait));
}

const PKI = '/var/lib/podtrace-cluster/pki';
const AUDIT = '/var/lib/podtrace-cluster/logs/audit.log';

/**
 * A kubeconfig whose user is in the group podtrace:audited, the only one the
 * local API server audits (hack/cluster.sh): its requests can be counted.
 */
export function auditedKubeconfig() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'podtrace-audited-'));
  const quiet = { stdio: 'ignore' };
  execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', `${dir}/u.key`, '-out', `${dir}/u.csr`, '-subj', '/O=system:masters/O=podtrace:audited/CN=podtrace-bench'], quiet);
  execFileSync('openssl', ['x509', '-req', '-in', `${dir}/u.csr`, '-CA', `${PKI}/ca.crt`, '-CAkey', `${PKI}/ca.key`, '-CAcreateserial', '-days', '1', '-out', `${dir}/u.crt`], quiet);
  const kubeconfig = path.join(dir, 'audited.kubeconfig');
  writeFileSync(
    kubeconfig,
    readFileSync(KUBECONFIG, 'utf8')
      .replace(/client-certificate-data: \S+/, `client-certificate-data: ${readFileSync(`${dir}/u.crt`).toString('base64')}`)
      .replace(/client-key-data: \S+/, `client-key-data: ${readFileSync(`${dir}/u.key`).toString('base64')}`),
    { mode: 0o600 },
  );
  return { kubeconfig, dir };
}

/** The audited requests made while `action` ran, by "verb resource": one per request (a watch once). */
export async function countRequests(action) {
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

/**
 * Everyone else's pods (not `ours`), by namespace/name: their resourceVersion and whether they
 * are settled (Ready, or ended, and not being deleted). The local cluster may be shared.
 */
export function otherPods(ours) {
  return new Map(
    JSON.parse(kubectl('get', 'pods', '-A', '-o', 'json'))
      .items.filter((p) => !ours(p.metadata.namespace, p.metadata.name))
      .map((p) => [
        `${p.metadata.namespace}/${p.metadata.name}`,
        {
          rv: p.metadata.resourceVersion,
          settled: !p.metadata.deletionTimestamp && (!['Pending', 'Running'].includes(p.status.phase) || p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
        },
      ]),
  );
}

/** Names of the pods that came, went or changed between two otherPods snapshots. */
export function changedPods(a, b) {
  return [...new Set([...a.keys(), ...b.keys()])].filter((n) => a.get(n)?.rv !== b.get(n)?.rv);
}

/** Waits (up to 2 min) until everyone else's pods are settled and unchanged for 2 s; resolves to the last snapshot. */
export async function quietCluster(ours) {
  let last = otherPods(ours);
  for (let i = 0; i < 60; i++) {
    await sleep(2000);
    const now = otherPods(ours);
    if (changedPods(last, now).length === 0 && [...now.values()].every((p) => p.settled)) return now;
    last = now;
  }
  return last;
}

export const KUBE_BURNER_VERSION = 'v1.13.0';

/** kube-burner, built once into the cache from the pinned module in hack/kube-burner; its path. */
export function kubeBurnerBinary() {
  const binary = path.join(CACHE, 'bin', `kube-burner-${KUBE_BURNER_VERSION}`, 'kube-burner');
  if (!existsSync(binary)) {
    mkdirSync(path.dirname(binary), { recursive: true });
    const ldflags = `-s -w -X github.com/cloud-bulldozer/go-commons/version.Version=${KUBE_BURNER_VERSION}`;
    execFileSync('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', `${binary}.tmp`, 'github.com/kube-burner/kube-burner/cmd/kube-burner'], {
      cwd: path.join(REPO, 'hack', 'kube-burner'),
      env: GOENV,
      stdio: 'inherit',
    });
    execFileSync('mv', [`${binary}.tmp`, binary]);
  }
  return binary;
}

/**
 * Writes a kube-burner job into `work` (config.yml and pod.yml): `pods` bare pods made from
 * `podSpec` (YAML of the pod's spec, indented two spaces), named NAME-ITERATION and labelled
 * app=NAME, created at `qps` a second, with the podLatency measurement's documents written into
 * `metrics` (podLatencyMeasurement-NAME.json); kube-burner waits for every pod to be Ready.
 */
export function writeKubeBurnerJob(work, { name, namespace, pods, qps, metrics, podSpec }) {
  writeFileSync(
    path.join(work, 'config.yml'),
    `global:
  gc: false
  measurements:
    - name: podLatency
metricsEndpoints:
  - indexer: { type: local, metricsDirectory: ${metrics} }
jobs:
  - name: ${name}
    jobIterations: ${pods}
    qps: ${qps}
    burst: ${qps}
    namespacedIterations: false
    namespace: ${namespace}
    waitWhenFinished: true
    podWait: false
    preLoadImages: false
    objects:
      - objectTemplate: pod.yml
        replicas: 1
`,
  );
  writeFileSync(
    path.join(work, 'pod.yml'),
    `kind: Pod
apiVersion: v1
metadata:
  name: ${name.replace(/^podtrace-/, '')}-{{.Iteration}}
  labels: { app: ${name} }
spec:
${podSpec}`,
  );
}

/**
 * A child process's peak memory, from the kernel's own high-water mark (VmHWM), and its CPU time
 * (utime + stime of /proc/PID/stat, in ticks of 1/100 s), polled every `everyMs` until it ends:
 * the last reads are from at most that long before its end. `ended` resolves to its exit code.
 */
export function processUsage(child, { everyMs = 50 } = {}) {
  const usage = { peakKb: 0, cpuSeconds: 0, endedAt: 0 };
  const poll = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) usage.peakKb = Math.max(usage.peakKb, Number(hwm[1]));
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      usage.cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone
    }
  }, everyMs);
  const ended = new Promise((resolve) =>
    child.on('close', (code) => {
      usage.endedAt = Date.now();
      clearInterval(poll);
      resolve(code);
    }),
  );
  return { usage, ended };
}
