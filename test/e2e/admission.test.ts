/**
 * Admission made visible (issue: beyond startup). A ValidatingAdmissionPolicy
 * (CEL, built into the API server) that allows images from one registry
 * only, bound to a namespace of its own: `podtrace create` of another image
 * there ends at the admission step, naming the policy, with its message and
 * exit 18.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import type { Trace } from '../../src/trace/types.js';
import { clients, ensureNamespace, keepRecording, kubeconfigPath, runPodtrace, simplePod, uniqueName, waitFor } from './harness.js';

const POLICY = 'podtrace-e2e-allowed-registry';
const NAMESPACE = 'podtrace-vap';
const MESSAGE = 'images must come from registry.example.com';
const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-admission-'));

function admissionApi(): AdmissionregistrationV1Api {
  return clients().kc.makeApiClient(AdmissionregistrationV1Api);
}

beforeAll(async () => {
  await ensureNamespace(NAMESPACE, { 'podtrace.dev/e2e-vap': 'true' });
  const api = admissionApi();
  const ignore409 = (e: unknown) => {
    if ((e as { code?: number }).code !== 409) throw e;
  };
  await api
    .createValidatingAdmissionPolicy({
      body: {
        metadata: { name: POLICY },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
          validations: [{ expression: "object.spec.containers.all(c, c.image.startsWith('registry.example.com/'))", message: MESSAGE }],
        },
      },
    })
    .catch(ignore409);
  await api
    .createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name: POLICY },
        spec: {
          policyName: POLICY,
          validationActions: ['Deny'],
          matchResources: { namespaceSelector: { matchLabels: { 'podtrace.dev/e2e-vap': 'true' } } },
        },
      },
    })
    .catch(ignore409);
  // The API server takes a moment to load a new policy: wait until it denies a dry-run pod.
  await waitFor('the policy to deny pods', 60_000, async () => {
    try {
      await clients().core.createNamespacedPod({ namespace: NAMESPACE, body: simplePod(uniqueName('probe'), 'nginx'), dryRun: 'All' });
      return undefined;
    } catch (error) {
      return String((error as { body?: unknown }).body ?? error).includes(POLICY) ? true : undefined;
    }
  });
});

afterAll(async () => {
  const api = admissionApi();
  await api.deleteValidatingAdmissionPolicyBinding({ name: POLICY }).catch(() => undefined);
  await api.deleteValidatingAdmissionPolicy({ name: POLICY }).catch(() => undefined);
});

describe('admission, made visible', () => {
  it('a ValidatingAdmissionPolicy denial ends at the admission step, with the policy, its message and exit 18', async () => {
    const name = uniqueName('vap');
    const recording = path.join(cwd, `${name}.ndjson`);
    const result = await runPodtrace(
      ['create', 'nginx', '--name', name, '-n', NAMESPACE, '--kubeconfig', kubeconfigPath(), '--out', `${name}.json`, '--record', recording],
      cwd,
    );
    expect(result.code, result.stderr).toBe(EXIT.admissionRejected);
    const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
    keepRecording(recording, trace, 'vap');
    expect(trace.outcome.class).toBe('admission-rejected');
    expect(trace.outcome.phase).toBe('api.accepted');
    expect(trace.outcome.cause).toMatchObject({ code: 'admission-policy', chain: ['Invalid: the create was refused', `ValidatingAdmissionPolicy "${POLICY}" denied it`, trace.outcome.message] });
    expect(trace.outcome.message).toContain(`ValidatingAdmissionPolicy '${POLICY}'`);
    expect(trace.outcome.message).toContain(MESSAGE);
    expect(trace.outcome.hint).toMatch(new RegExp(`^denied by ValidatingAdmissionPolicy "${POLICY}" \\(binding "${POLICY}"\\)`));
    expect(trace.admission.status).toBe('rejected');
    // the table says it too, and the steps stop before scheduling
    expect(result.stdout).toContain('admission-rejected');
    expect(result.stdout).toContain(POLICY);
    expect(trace.milestones.map((m) => m.id)).not.toContain('scheduler.scheduled');
    // nothing was created
    const pods = await clients().core.listNamespacedPod({ namespace: NAMESPACE });
    expect(pods.items).toEqual([]);
  });
});
