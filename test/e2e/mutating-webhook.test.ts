/**
 * Admission made visible, part two (issue: beyond startup). A mutating
 * admission webhook served by this test over TLS (its certificate made here
 * with openssl) adds a label and an env var to pods of one namespace, after a
 * deliberate delay. podtrace's admission diff must show exactly those two
 * fields more than a run without the webhook, and its POST step must show the
 * time the API server spent waiting for the webhook.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { clients, ensureNamespace, keepRecording, kubeconfigPath, runPodtrace, simplePod, spansUrl, uniqueName, waitFor } from './harness.js';

const WEBHOOK = 'podtrace-e2e-inject';
const NAMESPACE = 'podtrace-mutate';
const SELECTOR = { 'podtrace.dev/e2e-mutate': 'true' };
const LABEL = 'podtrace.dev/injected';
const ENV = { name: 'INJECTED_BY', value: 'podtrace-e2e-webhook' };
/** How long the webhook thinks before answering: what the POST step must show. */
const DELAY_MS = 400;

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-webhook-'));
let server: Server | undefined;
let calls = 0;

interface AdmissionReview {
  request: { uid: string; object: { metadata?: { labels?: Record<string, string> } } };
}

/** A self-signed certificate for 127.0.0.1 (the API server calls the webhook on loopback). */
function certificate(): { key: Buffer; cert: Buffer } {
  const key = path.join(cwd, 'webhook.key');
  const cert = path.join(cwd, 'webhook.crt');
  execFileSync(
    'openssl',
    ['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-days', '1']
      .concat(['-keyout', key, '-out', cert, '-subj', '/CN=podtrace-e2e-webhook', '-addext', 'subjectAltName=IP:127.0.0.1']),
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/** The webhook: a JSON patch that adds the label and the env var to the first container. */
function review(body: string): string {
  const { request } = JSON.parse(body) as AdmissionReview;
  const labels = request.object.metadata?.labels;
  const patch = [
    labels ? { op: 'add', path: `/metadata/labels/${LABEL.replace('/', '~1')}`, value: 'yes' } : { op: 'add', path: '/metadata/labels', value: { [LABEL]: 'yes' } },
    { op: 'add', path: '/spec/containers/0/env', value: [ENV] },
  ];
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: request.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') },
  });
}

async function serve(tls: { key: Buffer; cert: Buffer }): Promise<number> {
  server = createServer(tls, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      calls += 1;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(review(body));
      }, DELAY_MS);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function admissionApi(): AdmissionregistrationV1Api {
  return clients().kc.makeApiClient(AdmissionregistrationV1Api);
}

async function install(port: number, caBundle: Buffer): Promise<void> {
  await admissionApi().createMutatingWebhookConfiguration({
    body: {
      metadata: { name: WEBHOOK },
      webhooks: [
        {
          name: 'inject.podtrace.dev',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Fail',
          timeoutSeconds: 10,
          clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle: caBundle.toString('base64') },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
          namespaceSelector: { matchLabels: SELECTOR },
        },
      ],
    },
  });
  // The API server takes a moment to pick up a new webhook: wait until a dry-run pod comes back mutated.
  await waitFor('the webhook to mutate pods', 60_000, async () => {
    const pod = await clients().core.createNamespacedPod({ namespace: NAMESPACE, body: simplePod(uniqueName('probe'), 'nginx'), dryRun: 'All' });
    return pod.metadata?.labels?.[LABEL] === 'yes' ? true : undefined;
  });
}

async function trace(label: string): Promise<Trace & { stdout: string }> {
  const name = uniqueName(label);
  const recording = path.join(cwd, `${name}.ndjson`);
  const result = await runPodtrace(
    ['create', 'nginx', '--name', name, '-n', NAMESPACE, '--kubeconfig', kubeconfigPath(), '--out', `${name}.json`, '--record', recording, '--spans', spansUrl()],
    cwd,
  );
  expect(result.code, result.stderr).toBe(EXIT.ok);
  const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
  keepRecording(recording, trace, label);
  return Object.assign(trace, { stdout: result.stdout });
}

function postMs(trace: Trace): number {
  const phase = trace.phases.find((p) => p.id === 'api.post-sent->api.accepted');
  expect(phase, 'the POST step').toBeDefined();
  return phase!.durationMs;
}

let baseline: Trace;

beforeAll(async () => {
  await ensureNamespace(NAMESPACE, SELECTOR);
  await admissionApi().deleteMutatingWebhookConfiguration({ name: WEBHOOK }).catch(() => undefined);
  // the namespace's default ServiceAccount comes from the controller manager: pods need it
  await waitFor('the default ServiceAccount', 30_000, async () =>
    (await clients().core.readNamespacedServiceAccount({ name: 'default', namespace: NAMESPACE }).catch(() => undefined)) ? true : undefined,
  );
  baseline = await trace('nowebhook');
  const tls = certificate();
  await install(await serve(tls), tls.cert);
});

afterAll(async () => {
  await admissionApi().deleteMutatingWebhookConfiguration({ name: WEBHOOK }).catch(() => undefined);
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

describe('a mutating admission webhook, made visible', () => {
  it('the admission diff shows exactly the label and env var it added, and the POST step its delay', async () => {
    const before = calls;
    const mutated = await trace('webhook');
    expect(calls).toBe(before + 1);

    // exactly two fields more than the same pod without the webhook
    const paths = (t: Trace) => new Set(t.admission.changes.map((c) => c.path));
    const extra = [...paths(mutated)].filter((p) => !paths(baseline).has(p)).sort();
    expect(extra).toEqual([`metadata.labels["${LABEL}"]`, 'spec.containers[0].env']);
    const byPath = new Map(mutated.admission.changes.map((c) => [c.path, c]));
    expect(byPath.get(`metadata.labels["${LABEL}"]`)).toEqual({ path: `metadata.labels["${LABEL}"]`, op: 'added', after: 'yes', origin: 'admission' });
    expect(byPath.get('spec.containers[0].env')).toEqual({ path: 'spec.containers[0].env', op: 'added', after: [ENV], origin: 'admission' });
    expect([...paths(baseline)].filter((p) => !paths(mutated).has(p))).toEqual([]);
    // and podtrace itself tells them apart from the API server's defaulting, in the trace and the table
    expect(mutated.admission.changes.filter((c) => c.origin === 'admission').map((c) => c.path)).toEqual(extra);
    expect(baseline.admission.changes.filter((c) => c.origin === 'admission')).toEqual([]);
    expect(mutated.stdout).toContain('admission (a mutating webhook or policy) changed 2 field(s):');
    expect(mutated.stdout).toContain(`  spec.containers[0].env = ${JSON.stringify([ENV])}`);

    // the API server waited for the webhook: the POST took its delay more than without it
    expect(postMs(mutated)).toBeGreaterThanOrEqual(DELAY_MS);
    expect(postMs(mutated) - postMs(baseline)).toBeGreaterThanOrEqual(DELAY_MS - 50);
    // and the API server's own span of the call says so, as an admission sub-step of the POST
    const call = mutated.spans!.steps.filter((x) => x.name === 'Call mutating webhook');
    expect(call).toHaveLength(1);
    expect(call[0]!.label).toBe('admission: mutating webhook inject.podtrace.dev');
    expect(call[0]!.durationMs).toBeGreaterThanOrEqual(DELAY_MS);
    expect(call[0]!.precisionMs).toBeLessThanOrEqual(0.001);
    expect(baseline.spans!.steps.filter((x) => x.name === 'Call mutating webhook')).toEqual([]);
    expect(mutated.stdout).toMatch(/admission: mutating webhook\s*│\s*\+[\d.]+ms\s*│\s*4\d\dms/);
    expect(mutated.outcome.class).toBe('ready');
  });
});
