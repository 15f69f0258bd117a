import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { AuthError, UnreachableError } from '../../../src/errors.js';
import { EXIT } from '../../../src/exit-codes.js';
import { connectionFailure, networkErrorCode } from '../../../src/kube/network-errors.js';
import { KubeApiError } from '../../../src/kube/errors.js';

const fetchFailed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });

describe('connectionFailure', () => {
  const server = 'https://127.0.0.1:6443';

  it('maps refused, DNS and timeouts to exit 4 naming the server', () => {
    const refused = connectionFailure(fetchFailed(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' })), server);
    expect(refused).toBeInstanceOf(UnreachableError);
    expect(refused!.exitCode).toBe(EXIT.unreachable);
    expect(refused!.message).toBe(`cannot reach the API server at ${server}: connection refused (ECONNREFUSED); is the cluster running?`);
    const dns = connectionFailure(fetchFailed({ code: 'ENOTFOUND' }), 'https://nowhere.invalid:6443');
    expect(dns!.message).toMatch(/host name not found \(ENOTFOUND\)/);
    const dualStack = fetchFailed(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]));
    expect(networkErrorCode(dualStack)).toBe('ECONNREFUSED');
  });

  it('maps TLS failures to exit 4 with a hint about the CA', () => {
    const tls = connectionFailure(
      fetchFailed(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })),
      server,
    );
    expect(tls).toBeInstanceOf(UnreachableError);
    expect(tls!.message).toMatch(/TLS handshake with the API server at .* failed: self-signed certificate in certificate chain \(SELF_SIGNED_CERT_IN_CHAIN\); check certificate-authority/);
  });

  it('maps 401 to exit 6 and leaves other API errors alone', () => {
    const unauthorized = connectionFailure(KubeApiError.fromResponse(401, { kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized' }), server);
    expect(unauthorized).toBeInstanceOf(AuthError);
    expect(unauthorized!.exitCode).toBe(EXIT.unauthenticated);
    expect(connectionFailure(KubeApiError.fromResponse(403, {}), server)).toBeUndefined();
    expect(connectionFailure(new Error('something else'), server)).toBeUndefined();
  });

  it('reads the Status object of an API error', () => {
    const error = KubeApiError.fromResponse(422, { kind: 'Status', reason: 'Invalid', message: 'Pod "x" is invalid', details: { name: 'x' } });
    expect(error).toMatchObject({ status: 422, reason: 'Invalid', message: 'Pod "x" is invalid', details: { name: 'x' } });
    expect(KubeApiError.fromResponse(503, 'upstream down')).toMatchObject({ reason: 'InternalError', message: 'upstream down' });
    expect(KubeApiError.fromResponse(404, undefined)).toMatchObject({ reason: 'NotFound', message: 'HTTP 404' });
  });
});

function kubeconfigFor(server: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-net-'));
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'not-a-real-token' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return file;
}

describe('the real client (client-node) against loopback', () => {
  it('a refused connection is exit 4 with the server URL, and nothing else is printed', async () => {
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const server = `https://127.0.0.1:${port}`;
    let out = '';
    let err = '';
    const code = await main(['create', 'nginx', '--kubeconfig', kubeconfigFor(server)], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      env: {},
      cwd: tmpdir(),
    });
    expect(code).toBe(EXIT.unreachable);
    expect(err).toBe(`podtrace: cannot reach the API server at ${server}: connection refused (ECONNREFUSED); is the cluster running?\n`);
    expect(out).toBe('');
  });

  it('a server that does not speak TLS is exit 4 too', async () => {
    const silent = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      let err = '';
      const code = await main(['create', 'nginx', '--kubeconfig', kubeconfigFor(`https://127.0.0.1:${port}`)], {
        stdout: { write: () => true },
        stderr: { write: (s: string) => (err += s) },
        env: {},
        cwd: tmpdir(),
      });
      expect(code).toBe(EXIT.unreachable);
      expect(err).toMatch(new RegExp(`^podtrace: (TLS handshake with|cannot reach) the API server at https://127\\.0\\.0\\.1:${port}`));
      expect(err.trimEnd().split('\n')).toHaveLength(1);
    } finally {
      silent.close();
    }
  });
});
