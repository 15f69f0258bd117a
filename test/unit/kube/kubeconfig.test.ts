import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeconfigError } from '../../../src/errors.js';
import { isDefaultFallback, loadKubeconfig, refuseDefaultFallback } from '../../../src/kube/kubeconfig.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'podtrace-kc-'));

interface Entry {
  context: string;
  cluster?: string;
  server?: string;
  namespace?: string;
  user?: Record<string, unknown>;
  skipTLS?: boolean;
}

function kubeconfig(entries: Entry[], current?: string): string {
  const clusters = entries
    .filter((e) => e.server !== undefined)
    .map((e) => ({
      name: e.cluster ?? e.context,
      cluster: { server: e.server, ...(e.skipTLS ? { 'insecure-skip-tls-verify': true } : {}) },
    }));
  const users = entries.filter((e) => e.user).map((e) => ({ name: `${e.context}-user`, user: e.user }));
  const contexts = entries.map((e) => ({
    name: e.context,
    context: { cluster: e.cluster ?? e.context, ...(e.user ? { user: `${e.context}-user` } : {}), ...(e.namespace ? { namespace: e.namespace } : {}) },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters, users, contexts, ...(current ? { 'current-context': current } : {}) });
}

function write(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

function loadError(request: Parameters<typeof loadKubeconfig>[0]): KubeconfigError {
  try {
    loadKubeconfig(request);
  } catch (error) {
    expect(error).toBeInstanceOf(KubeconfigError);
    expect((error as Error).message).not.toContain('\n');
    return error as KubeconfigError;
  }
  throw new Error('expected a KubeconfigError');
}

describe('loadKubeconfig', () => {
  it('reads --kubeconfig, records the target without secrets, namespace from the context', () => {
    const dir = tmp();
    const file = write(
      dir,
      'kc',
      kubeconfig([{ context: 'kind', server: 'https://127.0.0.1:6443', namespace: 'team', user: { token: 'SECRET-TOKEN' } }], 'kind'),
    );
    const { target } = loadKubeconfig({ kubeconfig: file, env: {} });
    expect(target).toMatchObject({
      context: 'kind',
      cluster: 'kind',
      user: 'kind-user',
      server: 'https://127.0.0.1:6443',
      namespace: 'team',
      namespaceSource: 'context',
      authMethod: 'token',
      files: [file],
    });
    expect(JSON.stringify(target)).not.toContain('SECRET');
    expect(target.loadMs).toBeGreaterThanOrEqual(0);
  });

  it('lets -n and --context override; namespace defaults to "default"', () => {
    const dir = tmp();
    const file = write(
      dir,
      'kc',
      kubeconfig(
        [
          { context: 'a', server: 'https://a:6443', namespace: 'ns-a' },
          { context: 'b', server: 'https://b:6443', user: { 'client-certificate-data': 'Y2VydA==', 'client-key-data': 'a2V5' } },
        ],
        'a',
      ),
    );
    expect(loadKubeconfig({ kubeconfig: file, env: {}, namespace: 'x' }).target).toMatchObject({ namespace: 'x', namespaceSource: 'flag' });
    expect(loadKubeconfig({ kubeconfig: file, env: {}, context: 'b' }).target).toMatchObject({
      context: 'b',
      server: 'https://b:6443',
      namespace: 'default',
      namespaceSource: 'default',
      authMethod: 'client-certificate',
    });
  });

  it('follows KUBECONFIG (a list; first file wins; missing entries skipped) before ~/.kube/config', () => {
    const dir = tmp();
    const first = write(dir, 'one', kubeconfig([{ context: 'shared', server: 'https://first:6443' }], 'shared'));
    const second = write(dir, 'two', kubeconfig([{ context: 'shared', server: 'https://second:6443' }, { context: 'only-two', server: 'https://two:6443' }], 'only-two'));
    write(dir, 'home/.kube/config', kubeconfig([{ context: 'home', server: 'https://home:6443' }], 'home'));
    const env = { KUBECONFIG: [path.join(dir, 'missing'), first, second].join(path.delimiter), HOME: path.join(dir, 'home') };
    const { target } = loadKubeconfig({ env });
    expect(target).toMatchObject({ context: 'shared', server: 'https://first:6443', files: [first, second] });
    expect(loadKubeconfig({ env, context: 'only-two' }).target.server).toBe('https://two:6443');
    expect(loadKubeconfig({ env: { HOME: path.join(dir, 'home') } }).target.server).toBe('https://home:6443');
    expect(loadKubeconfig({ env: { HOME: path.join(dir, 'home'), KUBECONFIG: '' } }).target.server).toBe('https://home:6443');
  });

  it.each([
    ['missing --kubeconfig', (dir: string) => ({ kubeconfig: path.join(dir, 'nope'), env: {} }), /nope \(from --kubeconfig\) does not exist/],
    [
      'no kubeconfig at all (never http://localhost:8080)',
      (dir: string) => ({ env: { HOME: dir } }),
      /no kubeconfig: .*\.kube\/config does not exist and KUBECONFIG is not set.*never falls back to http:\/\/localhost:8080/,
    ],
    ['KUBECONFIG with only missing files', (dir: string) => ({ env: { KUBECONFIG: path.join(dir, 'a') } }), /none of the files in KUBECONFIG exist/],
  ])('refuses: %s', (_name, request, message) => {
    expect(loadError(request(tmp())).message).toMatch(message);
  });

  it('refuses unknown contexts, listing the known ones', () => {
    const dir = tmp();
    const file = write(dir, 'kc', kubeconfig([{ context: 'kind', server: 'https://x:1' }, { context: 'prod', server: 'https://y:1' }], 'kind'));
    expect(loadError({ kubeconfig: file, env: {}, context: 'staging' }).message).toMatch(/context "staging" not found .*\(available: kind, prod\)/);
  });

  it('refuses a kubeconfig without current-context, or without contexts', () => {
    const dir = tmp();
    const noCurrent = write(dir, 'a', kubeconfig([{ context: 'kind', server: 'https://x:1' }]));
    expect(loadError({ kubeconfig: noCurrent, env: {} }).message).toMatch(/no current-context: pass --context \(one of: kind\)/);
    const empty = write(dir, 'b', JSON.stringify({ apiVersion: 'v1', kind: 'Config' }));
    expect(loadError({ kubeconfig: empty, env: {} }).message).toMatch(/defines no contexts/);
    const blank = write(dir, 'c', '');
    expect(loadError({ kubeconfig: blank, env: {} }).message).toMatch(/cannot read kubeconfig .*c: .*empty/);
  });

  it('refuses clusters that are missing, have no server, or use plain HTTP without skip-TLS', () => {
    const dir = tmp();
    const noCluster = write(dir, 'a', kubeconfig([{ context: 'kind' }], 'kind'));
    expect(loadError({ kubeconfig: noCluster, env: {} }).message).toMatch(/refers to cluster "kind", which is missing .*or has no server/);
    const noServer = write(
      dir,
      'b',
      JSON.stringify({ clusters: [{ name: 'c', cluster: {} }], contexts: [{ name: 'x', context: { cluster: 'c' } }], 'current-context': 'x' }),
    );
    expect(loadError({ kubeconfig: noServer, env: {} }).message).toMatch(/has no server URL/);
    const http = write(dir, 'c', kubeconfig([{ context: 'kind', server: 'http://localhost:8080' }], 'kind'));
    expect(loadError({ kubeconfig: http, env: {} }).message).toMatch(/plain HTTP .*insecure-skip-tls-verify/);
    const httpOk = write(dir, 'd', kubeconfig([{ context: 'kind', server: 'http://127.0.0.1:8080', skipTLS: true }], 'kind'));
    expect(loadKubeconfig({ kubeconfig: httpOk, env: {} }).target.server).toBe('http://127.0.0.1:8080');
  });

  it('refuses unparseable YAML with the file name', () => {
    const dir = tmp();
    const file = write(dir, 'broken', 'clusters: [\n  - {name: x\n');
    expect(loadError({ kubeconfig: file, env: {} }).message).toMatch(/cannot read kubeconfig .*broken: /);
  });

  it("recognises client-node's silent localhost:8080 fallback", () => {
    const dir = tmp();
    const saved = { KUBECONFIG: process.env['KUBECONFIG'], HOME: process.env['HOME'] };
    try {
      delete process.env['KUBECONFIG'];
      process.env['HOME'] = dir;
      const kc = new KubeConfig();
      kc.loadFromDefault();
      expect(kc.getCurrentCluster()?.server).toBe('http://localhost:8080');
      expect(isDefaultFallback(kc)).toBe(true);
      expect(() => refuseDefaultFallback(kc)).toThrow(/would fall back to http:\/\/localhost:8080/);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    const real = new KubeConfig();
    real.loadFromString(kubeconfig([{ context: 'kind', server: 'https://127.0.0.1:6443' }], 'kind'));
    expect(isDefaultFallback(real)).toBe(false);
  });

  it('names the auth method without reading secrets', () => {
    const dir = tmp();
    const file = write(
      dir,
      'kc',
      kubeconfig(
        [
          { context: 'exec', server: 'https://x:1', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'get-token' } } },
          { context: 'basic', server: 'https://x:1', user: { username: 'u', password: 'p' } },
          { context: 'anon', server: 'https://x:1' },
        ],
        'exec',
      ),
    );
    expect(loadKubeconfig({ kubeconfig: file, env: {} }).target.authMethod).toBe('exec');
    expect(loadKubeconfig({ kubeconfig: file, env: {}, context: 'basic' }).target.authMethod).toBe('basic');
    expect(loadKubeconfig({ kubeconfig: file, env: {}, context: 'anon' }).target).toMatchObject({ authMethod: 'none', user: '' });
  });
});

describe('in a pod without a kubeconfig (as kubectl)', () => {
  function pod(files: { token?: boolean; ca?: boolean; namespace?: string }): string {
    const root = tmp();
    const dir = 'var/run/secrets/kubernetes.io/serviceaccount';
    if (files.token !== false) write(root, `${dir}/token`, 'not-a-real-token');
    if (files.ca !== false) write(root, `${dir}/ca.crt`, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    if (files.namespace !== undefined) write(root, `${dir}/namespace`, files.namespace);
    return root;
  }
  const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

  it('uses the Service address, the mounted token file and CA, and the pod namespace', () => {
    const root = pod({ namespace: 'team-a' });
    const { kubeConfig, target } = loadKubeconfig({ env, homeDir: tmp(), serviceAccountRoot: root });
    expect(target).toMatchObject({ context: 'in-cluster', server: 'https://10.96.0.1:443', namespace: 'team-a', namespaceSource: 'context', authMethod: 'token', files: [] });
    const user = kubeConfig.getCurrentUser()!;
    // the token is read from its file on each request (the kubelet rotates it), never copied into the config
    expect(user.token).toBeUndefined();
    expect(user.authProvider).toEqual({ name: 'tokenFile', config: { tokenFile: path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount/token') } });
    expect(kubeConfig.getCurrentCluster()!.caFile).toBe(path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount/ca.crt'));
    expect(loadKubeconfig({ env, homeDir: tmp(), serviceAccountRoot: root, namespace: 'other' }).target).toMatchObject({ namespace: 'other', namespaceSource: 'flag' });
  });

  it('an IPv6 Service address is bracketed', () => {
    expect(loadKubeconfig({ env: { ...env, KUBERNETES_SERVICE_HOST: 'fd00::1' }, homeDir: tmp(), serviceAccountRoot: pod({}) }).target.server).toBe('https://[fd00::1]:443');
  });

  it('a kubeconfig, when there is one, still wins; without the token the rule stays: no kubeconfig, exit 3', () => {
    const home = tmp();
    write(home, '.kube/config', kubeconfig([{ context: 'kind', server: 'https://127.0.0.1:6443' }], 'kind'));
    expect(loadKubeconfig({ env, homeDir: home, serviceAccountRoot: pod({}) }).target.context).toBe('kind');
    expect(() => loadKubeconfig({ env, homeDir: tmp(), serviceAccountRoot: pod({ token: false }) })).toThrow(/^no kubeconfig: .* \(podtrace never falls back to http:\/\/localhost:8080\)$/);
    expect(() => loadKubeconfig({ env: {}, homeDir: tmp(), serviceAccountRoot: pod({}) })).toThrow(KubeconfigError);
  });

  it('a token without its CA, or another --context: one line saying what to do', () => {
    expect(() => loadKubeconfig({ env, homeDir: tmp(), serviceAccountRoot: pod({ ca: false }) })).toThrow(/ca\.crt is missing: mount the ServiceAccount's token volume/);
    expect(() => loadKubeconfig({ env, homeDir: tmp(), serviceAccountRoot: pod({}), context: 'prod' })).toThrow(/the only context is in-cluster; pass --kubeconfig FILE/);
  });
});
