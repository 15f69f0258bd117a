/**
 * Credentials (issue: reliability). Nothing podtrace writes holds a token, a
 * key or certificate data: runs with a client certificate and with a
 * ServiceAccount token, then every output format of create, replay, diff and
 * report, scanned for pieces of those secrets. And bad credentials (an
 * invalid token, an expired certificate, one from an unknown CA) are one
 * line, exit 6, nothing created.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { EXIT } from '../../src/exit-codes.js';
import { clients, kubeconfigPath, NAMESPACE, runPodtrace, serviceAccountKubeconfig, uniqueName } from './harness.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-secrets-'));
const SA = 'podtrace-e2e-secrets';
const PKI = '/var/lib/podtrace-cluster/pki';

interface KubeconfigDoc {
  clusters: Array<{ cluster: Record<string, string> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
}

/** Every secret string of a kubeconfig, and the base64 body of each PEM inside. */
function secretsOf(file: string): string[] {
  const doc = parseYaml(readFileSync(file, 'utf8')) as KubeconfigDoc;
  const secrets: string[] = [];
  for (const { user } of doc.users) {
    for (const key of ['token', 'client-key-data', 'client-certificate-data']) {
      const value = user[key];
      if (typeof value !== 'string' || !value) continue;
      secrets.push(value);
      if (key !== 'token') secrets.push(Buffer.from(value, 'base64').toString('utf8').replace(/-----[A-Z ]+-----|\s/g, ''));
    }
  }
  return secrets;
}

/** Pieces of 40 characters from the start, middle and end of each secret that a text holds, plus PEM and field markers. */
function leaks(text: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    const n = 40;
    for (const at of [0, Math.floor((secret.length - n) / 2), secret.length - n]) {
      const piece = secret.slice(Math.max(0, at), Math.max(0, at) + n);
      if (piece.length === n && text.includes(piece)) found.push(piece);
    }
  }
  for (const marker of ['-----BEGIN', 'client-key-data', 'client-certificate-data', 'Bearer ', 'authorization:']) {
    if (text.toLowerCase().includes(marker.toLowerCase())) found.push(marker);
  }
  return found;
}

let tokenKubeconfig: string;

beforeAll(async () => {
  const rbac = clients().kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac
    .createClusterRoleBinding({
      body: {
        metadata: { name: SA },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'ServiceAccount', name: SA, namespace: NAMESPACE }],
      },
    })
    .catch((e: unknown) => {
      if ((e as { code?: number }).code !== 409) throw e;
    });
  tokenKubeconfig = await serviceAccountKubeconfig(path.join(cwd, 'token.kubeconfig'), SA);
});

afterAll(async () => {
  const rbac = clients().kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.deleteClusterRoleBinding({ name: SA }).catch(() => undefined);
  await clients().core.deleteNamespacedServiceAccount({ name: SA, namespace: NAMESPACE }).catch(() => undefined);
});

/** A copy of the admin kubeconfig with the user's credentials replaced. */
function kubeconfigWith(name: string, user: Record<string, unknown>): string {
  const doc = parseYaml(readFileSync(kubeconfigPath(), 'utf8')) as KubeconfigDoc;
  for (const u of doc.users) u.user = user;
  const file = path.join(cwd, name);
  writeFileSync(file, stringifyYaml(doc), { mode: 0o600 });
  return file;
}

/** A client certificate for CN=user, signed by caCrt/caKey, valid for `days` (negative: already expired). */
function clientCert(name: string, caCrt: string, caKey: string, days: number): Record<string, string> {
  const key = path.join(cwd, `${name}.key`);
  const csr = path.join(cwd, `${name}.csr`);
  const crt = path.join(cwd, `${name}.crt`);
  const quiet = { stdio: 'ignore' as const };
  execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', key, '-out', csr, '-subj', `/CN=${name}/O=system:masters`], quiet);
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-CAcreateserial', '-days', String(days), '-out', crt], quiet);
  return {
    'client-certificate-data': readFileSync(crt).toString('base64'),
    'client-key-data': readFileSync(key).toString('base64'),
  };
}

async function podtracePods(): Promise<string[]> {
  const pods = await clients().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=podtrace' });
  return pods.items.map((p) => String(p.metadata?.name));
}

describe('credentials never written', () => {
  it('every output format of every command, with a client certificate and with a token, holds no piece of them', async () => {
    const secrets = [...secretsOf(kubeconfigPath()), ...secretsOf(tokenKubeconfig)];
    // the scan works: it finds the secrets where they are
    expect(leaks(readFileSync(kubeconfigPath(), 'utf8'), secrets).length).toBeGreaterThan(0);
    expect(leaks(readFileSync(tokenKubeconfig, 'utf8'), secretsOf(tokenKubeconfig)).length).toBeGreaterThan(0);

    const outputs: Array<[string, string]> = [];
    const run = async (args: string[]) => {
      const result = await runPodtrace(args, cwd);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(EXIT.ok);
      outputs.push([`${args.join(' ')} (stdout)`, result.stdout], [`${args.join(' ')} (stderr)`, result.stderr]);
    };
    const a = uniqueName('secrets-cert');
    const b = uniqueName('secrets-token');
    await run(['create', 'nginx', '--name', a, '--kubeconfig', kubeconfigPath(), '--out', 'a.json', '--record', 'a.ndjson']);
    await run(['create', 'nginx', '--name', b, '--kubeconfig', tokenKubeconfig, '-o', 'yaml', '--out', 'b.json', '--record', 'b.ndjson']);
    await run(['create', 'nginx', '--kubeconfig', tokenKubeconfig, '-o', 'json', '-q', '--out', 'c.json']);
    for (const o of ['table', 'json', 'yaml']) await run(['replay', 'b.ndjson', '-o', o]);
    for (const o of ['table', 'json', 'markdown']) await run(['diff', 'a.json', 'b.json', '-o', o]);
    const formats = ['table', 'json', 'csv', 'markdown', 'html', 'chrome-trace', 'otlp'];
    for (const o of formats) await run(['report', 'a.json', 'b.json', '-o', o, '--out', `report.${o}`]);

    const files = readdirSync(cwd).filter((f) => !/kubeconfig|\.(key|csr|crt|srl)$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['a.json', 'b.json', 'c.json', 'a.ndjson', 'b.ndjson', ...formats.map((o) => `report.${o}`)]));
    for (const f of files) outputs.push([f, readFileSync(path.join(cwd, f), 'utf8')]);
    const found = outputs.map(([where, text]) => [where, leaks(text, secrets)] as const).filter(([, l]) => l.length > 0);
    expect(found).toEqual([]);
    // the runs did use those credentials
    const trace = JSON.parse(readFileSync(path.join(cwd, 'b.json'), 'utf8')) as { identity: { username?: string } };
    expect(trace.identity.username).toBe(`system:serviceaccount:${NAMESPACE}:${SA}`);
  });
});

describe('an exec credential plugin', () => {
  it('is run once, timed as the credentials step, and the token it returns is never written', async () => {
    const token = secretsOf(tokenKubeconfig)[0]!;
    // what cloud plugins (aws, gke-gcloud-auth-plugin, kubelogin) do: think a while, print an ExecCredential
    const plugin = path.join(cwd, 'slow-plugin.sh');
    const calls = path.join(cwd, 'plugin-calls');
    const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } };
    writeFileSync(plugin, `#!/bin/sh\necho call >> '${calls}'\nsleep 0.4\necho '${JSON.stringify(credential)}'\n`, { mode: 0o700 });
    chmodSync(plugin, 0o700);
    const kubeconfig = kubeconfigWith('exec.kubeconfig', {
      exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' },
    });
    const name = uniqueName('secrets-exec');
    const result = await runPodtrace(['create', 'nginx', '--name', name, '--kubeconfig', kubeconfig, '--out', `${name}.json`, '--record', `${name}.ndjson`], cwd);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    const text = readFileSync(path.join(cwd, `${name}.json`), 'utf8');
    const trace = JSON.parse(text) as { cluster: { authMethod?: string; credentialsMs?: number }; identity: { username?: string }; milestones: Array<{ id: string }> };
    expect(trace.cluster.authMethod).toBe('exec');
    expect(trace.cluster.credentialsMs).toBeGreaterThanOrEqual(400);
    expect(trace.identity.username).toBe(`system:serviceaccount:${NAMESPACE}:${SA}`);
    expect(trace.milestones.map((m) => m.id)).toContain('pod.ready');
    // the credential is cached for the run: one call, not one per request
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(1);
    const written = [result.stdout, result.stderr, text, readFileSync(path.join(cwd, `${name}.ndjson`), 'utf8')];
    expect(written.flatMap((t) => leaks(t, [token]))).toEqual([]);
  });
});

describe('bad credentials: one line, exit 6, nothing created', () => {
  const cases: Array<[string, () => Record<string, string>]> = [
    ['an invalid bearer token', () => ({ token: 'not-a-real-token-0123456789abcdef' })],
    ['an expired client certificate from the cluster CA', () => clientCert('expired-user', `${PKI}/ca.crt`, `${PKI}/ca.key`, -1)],
    [
      'a client certificate from an unknown CA',
      () => {
        const key = path.join(cwd, 'other-ca.key');
        const crt = path.join(cwd, 'other-ca.crt');
        execFileSync('openssl', ['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-days', '1', '-keyout', key, '-out', crt, '-subj', '/CN=other-ca'], { stdio: 'ignore' });
        return clientCert('stranger', crt, key, 1);
      },
    ],
  ];
  it.each(cases)('%s', async (label, user) => {
    const before = await podtracePods();
    const name = uniqueName('badcreds');
    const kubeconfig = kubeconfigWith(`${name}.kubeconfig`, user());
    const result = await runPodtrace(['create', 'nginx', '--name', name, '--kubeconfig', kubeconfig, '--out', `${name}.json`], cwd);
    expect(result.code, `${label}: ${result.stderr}`).toBe(EXIT.unauthenticated);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/rejected the credentials \(401 Unauthorized\).*refresh/);
    expect(await podtracePods()).toEqual(before);
    expect(readdirSync(cwd)).not.toContain(`${name}.json`);
  });
});
