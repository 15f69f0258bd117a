/**
 * `podtrace doctor`'s judgement on what the local cluster really answered: its
 * kubelet's /configz and the API server's and kubelet's /metrics, captured
 * into test/fixtures/doctor/ (the histogram and audit lines of /metrics; the
 * /configz whole). Variants change one field of those answers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { judge } from '../../../src/analysis/doctor.js';
import type { DoctorFindings, KubeletFinding } from '../../../src/trace/doctor-findings.js';
import { kubeletConfigFacts, metricsFacts } from '../../../src/trace/doctor-findings.js';
import { KEPT_FAMILIES } from '../../../src/collect/metrics.js';
import { EXIT } from '../../../src/exit-codes.js';
import { renderDoctorTable } from '../../../src/report/doctor.js';

const DIR = fileURLToPath(new URL('../../fixtures/doctor/', import.meta.url));
const configz = JSON.parse(readFileSync(`${DIR}configz-podtrace-node.json`, 'utf8')) as { kubeletconfig: Record<string, unknown> };
const apiserverText = readFileSync(`${DIR}apiserver-metrics.txt`, 'utf8');
const kubeletText = readFileSync(`${DIR}kubelet-metrics.txt`, 'utf8');

/** The local cluster's kubelet, with some of its configuration changed. */
function kubelet(change: (c: Record<string, unknown>) => void = () => {}, extra: Partial<KubeletFinding> = {}): KubeletFinding {
  const copy = structuredClone(configz);
  change(copy.kubeletconfig);
  return { node: 'podtrace-node', kubeletVersion: 'v1.34.12', config: kubeletConfigFacts(copy)!, metrics: metricsFacts(kubeletText, KEPT_FAMILIES.kubelet), ...extra };
}

const ACCESS = ['create pods', 'delete pods', 'watch pods', 'watch events', 'watch events.k8s.io events', 'get nodes'].map((what) => ({ what, grantedBy: 'deploy/rbac.yaml' as const, allowed: true }));
const METRICS_ACCESS = ['get /metrics', 'get nodes/proxy'].map((what) => ({ what, grantedBy: 'deploy/rbac-metrics.yaml' as const, allowed: true }));
const BACKEND = 'http://127.0.0.1:16686';

/** The local cluster as an admin sees it with --spans: every source there. */
function findings(over: Partial<DoctorFindings> = {}): DoctorFindings {
  return {
    target: { context: 'podtrace-local', cluster: 'podtrace-local', user: 'admin', server: 'https://127.0.0.1:6443', namespace: 'default', authMethod: 'client-certificate' },
    version: { gitVersion: 'v1.34.12', platform: 'linux/amd64' },
    identity: { username: 'podtrace-admin', groups: ['system:masters', 'system:authenticated'] },
    namespace: { status: 'exists' },
    access: [...ACCESS, ...METRICS_ACCESS],
    nodes: { total: 1, read: ['podtrace-node'] },
    kubelets: [kubelet(undefined, { spans: 'found' })],
    apiserverMetrics: metricsFacts(apiserverText, KEPT_FAMILIES.apiserver),
    backend: { url: BACKEND, apiserver: { request: 'GET /version', found: true, waitedMs: 740, inRunTrace: true }, resolutionMs: 0.000001, kubeletWindowMs: 300_000 },
    ...over,
  };
}

const check = (report: ReturnType<typeof judge>, id: string) => report.checks.find((c) => c.id === id)!;
const step = (report: ReturnType<typeof judge>, id: string) => report.steps.find((s) => s.id === id)!;

describe('the raw answers, read', () => {
  it("a kubelet's /configz: tracing, the event limit, image pulls", () => {
    expect(kubeletConfigFacts(configz)).toEqual({
      tracing: { endpoint: '127.0.0.1:4317', samplingRatePerMillion: 1_000_000 },
      eventRecordQPS: 1000,
      eventBurst: 1000,
      registryPullQPS: 5,
      registryBurst: 10,
      serializeImagePulls: false,
    });
    expect(kubeletConfigFacts({ kind: 'Status' })).toBeUndefined();
  });

  it('/metrics: which histograms podtrace reads have series, and the audit counters', () => {
    expect(metricsFacts(kubeletText, KEPT_FAMILIES.kubelet)).toEqual({ present: [...KEPT_FAMILIES.kubelet], absent: [] });
    const api = metricsFacts(apiserverText, KEPT_FAMILIES.apiserver);
    // no admission webhook had been called since that API server started
    expect(api.present).toEqual(KEPT_FAMILIES.apiserver.filter((f) => !f.includes('webhook')));
    expect(api.absent).toEqual(['apiserver_admission_webhook_admission_duration_seconds']);
    expect(api.audit).toEqual({ levels: { None: 2145 }, events: 0 });
    const noAudit = apiserverText
      .split('\n')
      .filter((l) => !l.includes('audit'))
      .join('\n');
    expect(metricsFacts(noAudit, KEPT_FAMILIES.apiserver).audit).toBeUndefined();
  });
});

describe('podtrace doctor: the judgement', () => {
  it('the local cluster with its trace backend: all good, exit 0, span-timed steps at the backend resolution', () => {
    const report = judge(findings(), '0.1.0');
    expect(report.checks.filter((c) => c.status !== 'ok' && c.status !== 'info')).toEqual([]);
    expect(report).toMatchObject({ verdict: 'ok', exitCode: EXIT.ok });
    expect(step(report, 'api.accepted')).toEqual({ id: 'api.accepted', label: 'API server stored the pod', component: 'apiserver', source: 'span:apiserver', precisionMs: 0.000001 });
    expect(step(report, 'kubelet.sandbox-requested')).toMatchObject({ source: 'span:kubelet' });
    expect(step(report, 'container.*.started')).toMatchObject({ source: 'event-name-ns', precisionMs: 0.000001 });
    expect(step(report, 'pod.ready')).toEqual({ id: 'pod.ready', label: 'pod Ready', component: 'kubelet', source: 'watch-observed', measuredPerRun: true });
    expect(check(report, 'kubelet-events').found).toMatch(/^podtrace-node: eventRecordQPS 1000, eventBurst 1000: .*about 250 containers starting together/);
    expect(check(report, 'kubelet-events').found).toMatch(/4 kubelet events per container start/);
    expect(check(report, 'audit')).toMatchObject({ status: 'info', found: expect.stringMatching(/evaluates an audit policy \(requests by level: None 2145, 0 events written\)/) });
    expect(report.figures.every((f) => f.status === 'exact-when-quiet')).toBe(true);
  });

  it('without a trace backend: tracing is not checked, the steps fall back to what is left, exit 40', () => {
    const { backend: _, ...rest } = findings();
    const report = judge({ ...rest, kubelets: [kubelet()] }, '0.1.0');
    expect(report).toMatchObject({ verdict: 'improve', exitCode: EXIT.doctorImprove });
    expect(check(report, 'apiserver-spans')).toMatchObject({ status: 'unknown', found: expect.stringMatching(/^not checked: no trace backend given/), change: expect.stringMatching(/--spans URL/) });
    expect(check(report, 'kubelet-spans')).toMatchObject({ status: 'unknown', found: expect.stringMatching(/the kubelet traces on podtrace-node \(endpoint 127\.0\.0\.1:4317.*not checked/) });
    expect(step(report, 'api.accepted')).toMatchObject({ source: 'client-clock', precisionMs: 0.001, better: { source: 'span:apiserver', check: 'apiserver-spans' } });
    expect(step(report, 'kubelet.sandbox-requested')).toEqual({ id: 'kubelet.sandbox-requested', label: 'kubelet asks the runtime for the sandbox', component: 'kubelet', better: { source: 'span:kubelet', check: 'kubelet-spans' } });
    expect(step(report, 'runtime.sandbox-ready')).toMatchObject({ source: 'watch-observed', measuredPerRun: true, better: { source: 'span:kubelet' } });
  });

  it("the API server's span never came: its tracing is off, and the change names the tracing config file for kind and minikube", () => {
    const report = judge(findings({ backend: { url: BACKEND, apiserver: { request: 'GET /version', found: false, waitedMs: 8012 }, resolutionMs: 0.000001, kubeletWindowMs: 300_000 } }), '0.1.0');
    const c = check(report, 'apiserver-spans');
    expect(c).toMatchObject({ status: 'improve', found: `no span of a traced GET /version reached ${BACKEND} within 8.01s: the API server's tracing is off, samples too little, or exports elsewhere` });
    expect(c.change).toMatch(/--tracing-config-file/);
    expect(c.change).toMatch(/kind: kubeadmConfigPatches apiServer\.extraArgs tracing-config-file .*kind-config\.yaml/);
    expect(c.change).toMatch(/minikube: .*--extra-config=apiserver\.tracing-config-file=/);
    expect(report.exitCode).toBe(EXIT.doctorImprove);
  });

  it("a kubelet without a tracing block: off, and the change is the KubeletConfiguration's tracing block (kind-config.yaml)", () => {
    const report = judge(findings({ kubelets: [kubelet((c) => delete c['tracing'], { spans: 'none' })] }), '0.1.0');
    const c = check(report, 'kubelet-spans');
    expect(c).toMatchObject({ status: 'improve', found: 'tracing off on podtrace-node: no tracing block in its KubeletConfiguration' });
    expect(c.change).toMatch(/^add `tracing: \{endpoint: <collector>:4317, samplingRatePerMillion: 1000000\}` to the KubeletConfiguration.*kind-config\.yaml/);
    expect(c.change).not.toMatch(/featureGates/); // KubeletTracing is GA in 1.34
    expect(step(report, 'kubelet.acknowledged')).toMatchObject({ source: 'watch-observed', better: { source: 'span:kubelet' } });
    const old = judge(findings({ kubelets: [kubelet((c) => delete c['tracing'], { kubeletVersion: 'v1.26.3' })] }), '0.1.0');
    expect(check(old, 'kubelet-spans').change).toMatch(/featureGates: \{KubeletTracing: true\}/);
  });

  it('a kubelet that samples less than every span, or exports where the backend does not read', () => {
    const sampled = judge(findings({ kubelets: [kubelet((c) => ((c['tracing'] as Record<string, unknown>)['samplingRatePerMillion'] = 100), { spans: 'found' })] }), '0.1.0');
    expect(check(sampled, 'kubelet-spans')).toMatchObject({ status: 'improve', change: expect.stringMatching(/samplingRatePerMillion: 1000000/) });
    const elsewhere = judge(findings({ kubelets: [kubelet(undefined, { spans: 'other-hosts' })] }), '0.1.0');
    expect(check(elsewhere, 'kubelet-spans')).toMatchObject({ status: 'improve', found: expect.stringMatching(/has no span of the kubelet on podtrace-node .*hostname/), change: expect.stringMatching(/tracing\.endpoint \(now 127\.0\.0\.1:4317\)/) });
  });

  it('eventRecordQPS 0 is not "no limit": client-go reads it as 5 events/s', () => {
    const report = judge(findings({ kubelets: [kubelet((c) => (c['eventRecordQPS'] = 0), { spans: 'found' })] }), '0.1.0');
    const c = check(report, 'kubelet-events');
    expect(c.status).toBe('improve');
    expect(c.found).toMatch(/^eventRecordQPS 0 on podtrace-node: the kubelet hands it to client-go, which reads 0 as 5 events\/s \(burst 1000\)/);
    expect(c.change).toMatch(/eventRecordQPS: 1000 and eventBurst: 1000/);
    expect(step(report, 'container.*.started').note).toBe("late when the kubelet's event rate limit binds");
    expect(step(report, 'scheduler.scheduled').note).toBeUndefined(); // the scheduler's events are not the kubelet's
  });

  it('a ServiceAccount bound to deploy/rbac.yaml only: the metrics and the kubelet configuration are out of reach, and deploy/rbac-metrics.yaml is named', () => {
    const forbidden = { error: '403 Forbidden: forbidden', forbidden: true };
    const report = judge(
      findings({
        identity: { username: 'system:serviceaccount:default:podtrace', groups: ['system:serviceaccounts'] },
        access: [...ACCESS, ...METRICS_ACCESS.map((a) => ({ ...a, allowed: false }))],
        kubelets: [{ node: 'podtrace-node', config: forbidden, metrics: forbidden, spans: 'found' }],
        apiserverMetrics: forbidden,
      }),
      '0.1.0',
    );
    expect(check(report, 'access')).toMatchObject({ status: 'improve', found: 'system:serviceaccount:default:podtrace may not get /metrics, get nodes/proxy (namespace default)' });
    for (const id of ['access', 'apiserver-metrics', 'kubelet-metrics', 'kubelet-events']) expect(check(report, id).change, id).toMatch(/^kubectl apply -f deploy\/rbac-metrics\.yaml/);
    expect(check(report, 'apiserver-metrics')).toMatchObject({ status: 'improve', found: 'not allowed to read /metrics (get /metrics)' });
    expect(check(report, 'kubelet-spans')).toMatchObject({ status: 'ok', found: expect.stringMatching(/its \/configz was not read, so its sampling rate is unknown/) });
    expect(report.figures.every((f) => f.status === 'not-readable')).toBe(true);
    expect(report.exitCode).toBe(EXIT.doctorImprove);
  });

  it('no pod rights at all: every step but the client steps is left out, and deploy/rbac.yaml is named', () => {
    const report = judge(findings({ access: [...ACCESS, ...METRICS_ACCESS].map((a) => ({ ...a, allowed: false })) }), '0.1.0');
    expect(check(report, 'access').change).toMatch(/^kubectl apply -f deploy\/rbac\.yaml -f deploy\/rbac-metrics\.yaml/);
    expect(step(report, 'pod.ready')).toMatchObject({ better: { source: 'watch-observed', check: 'access' } });
    expect(step(report, 'pod.ready').source).toBeUndefined();
  });

  it('the table says each check, its change, each step and the verdict', () => {
    const { backend: _, ...rest } = findings();
    const text = renderDoctorTable(judge({ ...rest, kubelets: [kubelet()] }, '0.1.0'), { color: false, width: 100 });
    expect(text).toMatch(/^podtrace 0\.1\.0 doctor · context podtrace-local \(v1\.34\.12\) · namespace default\n/);
    expect(text).toMatch(/ {2}unknown API server spans {4}not checked: no trace backend given/);
    expect(text).toMatch(/→ give --spans URL/);
    expect(text).toMatch(/│ API server stored the pod +│ client +│ ±1µs +│ API server span +│/);
    expect(text).toMatch(/2 to improve or check: each says the change above \(exit 40\)\n$/);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });
});
