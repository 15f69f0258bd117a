import { describe, expect, it } from 'vitest';
import { AuthError, KubeconfigError, UnreachableError } from '../../../src/errors.js';
import { EXIT } from '../../../src/exit-codes.js';
import { HttpClusterApi, collectionPath } from '../../../src/kube/cluster-api.js';
import { KubeApiError } from '../../../src/kube/errors.js';
import type { KubeTarget } from '../../../src/kube/kubeconfig.js';
import type { HttpVerb, QueryParams, Transport } from '../../../src/kube/transport.js';
import type { WatchDoneHandler } from '../../../src/kube/types.js';

const target: KubeTarget = {
  context: 'c',
  cluster: 'c',
  user: 'u',
  server: 'https://127.0.0.1:6443',
  namespace: 'default',
  namespaceSource: 'default',
  authMethod: 'token',
  files: [],
  loadMs: 0,
};

interface Sent {
  verb: HttpVerb;
  path: string;
  query?: QueryParams;
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
}

/** A transport that answers every request with the next scripted answer and records what was sent. */
function scripted(...answers: Array<{ status: number; body?: unknown; text?: string; contentType?: string; bytes?: Uint8Array } | Error>) {
  const sent: Sent[] = [];
  const watches: Array<{ path: string; query: QueryParams; onDone: WatchDoneHandler }> = [];
  const transport: Transport = {
    server: target.server,
    async applyCredentials() {},
    async send(verb, path, options) {
      sent.push({ verb, path, ...(options.query ? { query: options.query } : {}), ...(options.body !== undefined ? { body: options.body } : {}) });
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`no answer scripted for ${verb} ${path}`);
      if (answer instanceof Error) throw answer;
      return { status: answer.status, text: answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)) };
    },
    getLarge(path, options) {
      sent.push({ verb: 'GET', path, headers: { ...options.headers, Accept: options.accept } });
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`no answer scripted for GET ${path}`);
      if (answer instanceof Error) throw answer;
      return Promise.resolve({ status: answer.status, contentType: answer.contentType ?? 'text/plain; version=0.0.4', bytes: answer.bytes ?? Buffer.from(answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body))) });
    },
    async watch(path, query, _onEvent, onDone) {
      watches.push({ path, query, onDone });
      return { abort() {} };
    },
    async close() {},
  };
  return { api: new HttpClusterApi(transport, target), sent, watches };
}

const status = (code: number, reason: string, message: string) => ({ status: code, body: { kind: 'Status', code, reason, message } });

describe('the cluster API over HTTP', () => {
  it('creates, reads and deletes pods at their REST paths, returning status and object as sent', async () => {
    const pod = { metadata: { name: 'web', namespace: 'team' } };
    const { api, sent } = scripted({ status: 201, body: { ...pod, metadata: { ...pod.metadata, uid: 'u1' } } }, { status: 200, body: pod }, { status: 200, body: pod });
    expect(await api.createPod('team', pod)).toEqual({ status: 201, object: { metadata: { name: 'web', namespace: 'team', uid: 'u1' } } });
    expect(await api.getPod('team', 'web')).toEqual(pod);
    expect(await api.deletePod('team', 'web')).toEqual({ status: 200, object: pod });
    expect(sent).toEqual([
      { verb: 'POST', path: '/api/v1/namespaces/team/pods', body: pod },
      { verb: 'GET', path: '/api/v1/namespaces/team/pods/web' },
      { verb: 'DELETE', path: '/api/v1/namespaces/team/pods/web' },
    ]);
  });

  it.each([
    [403, 'Forbidden', 'forbidden'],
    [404, 'NotFound', 'not-found'],
    [409, 'AlreadyExists', 'conflict'],
    [410, 'Expired', 'gone'],
    [422, 'Invalid', 'invalid'],
    [500, 'InternalError', 'other'],
  ])('a %i answer is a KubeApiError of kind %s... (%s)', async (code, reason, kind) => {
    const { api } = scripted(status(code, reason, 'no'));
    const error = await api.createPod('default', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).kind).toBe(kind);
    expect((error as KubeApiError).reason).toBe(reason);
  });

  it('a 401 is the credentials: AuthError, exit 6, whatever was asked', async () => {
    const { api } = scripted(status(401, 'Unauthorized', 'Unauthorized'), status(401, 'Unauthorized', 'Unauthorized'));
    for (const call of [() => api.getNode('n1'), () => api.podLog('default', 'web', 'web', 100)]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).exitCode).toBe(EXIT.unauthenticated);
    }
  });

  it('a connection failure passes through as UnreachableError (the transport translated it)', async () => {
    const refused = new UnreachableError('cannot reach the API server', target.server);
    const { api } = scripted(refused);
    await expect(api.serverVersion()).rejects.toBe(refused);
  });

  it('credentials that cannot be produced are a kubeconfig error', async () => {
    const api = new HttpClusterApi(
      {
        server: target.server,
        applyCredentials: async () => {
          throw new Error('exec plugin failed\nstack...');
        },
        send: async () => ({ status: 200, text: '' }),
        getLarge: async () => ({ status: 200, contentType: '', bytes: new Uint8Array() }),
        watch: async () => ({ abort() {} }),
        close: async () => {},
      },
      target,
    );
    const error = await api.resolveCredentials().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeconfigError);
    expect((error as Error).message).toBe('could not get credentials for user "u" (token): exec plugin failed');
  });

  it('lists with selectors and returns the resourceVersion to watch from', async () => {
    const { api, sent } = scripted({ status: 200, body: { metadata: { resourceVersion: '42' }, items: [{ a: 1 }] } });
    expect(await api.list({ resource: 'eventsv1', namespace: 'ns' }, { fieldSelector: 'regarding.name=web' })).toEqual({ resourceVersion: '42', items: [{ a: 1 }] });
    expect(sent[0]).toEqual({ verb: 'GET', path: '/apis/events.k8s.io/v1/namespaces/ns/events', query: { fieldSelector: 'regarding.name=web', labelSelector: undefined } });
  });

  it('names every watched collection', () => {
    expect(collectionPath({ resource: 'pods', namespace: 'a b' })).toBe('/api/v1/namespaces/a%20b/pods');
    expect(collectionPath({ resource: 'events' })).toBe('/api/v1/events');
    expect(collectionPath({ resource: 'events', namespace: 'ns' })).toBe('/api/v1/namespaces/ns/events');
    expect(collectionPath({ resource: 'nodes' })).toBe('/api/v1/nodes');
    expect(collectionPath({ resource: 'endpointslices', namespace: 'ns' })).toBe('/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices');
  });

  it('a watch refused with 401 ends with AuthError; other refusals stay KubeApiErrors', async () => {
    const { api, watches } = scripted();
    const ends: unknown[] = [];
    await api.watch({ resource: 'pods', namespace: 'ns' }, { fieldSelector: 'metadata.name=web', resourceVersion: '7', allowWatchBookmarks: true }, () => {}, (e) => ends.push(e));
    expect(watches[0]!.path).toBe('/api/v1/namespaces/ns/pods');
    expect(watches[0]!.query).toMatchObject({ fieldSelector: 'metadata.name=web', resourceVersion: '7', allowWatchBookmarks: true });
    watches[0]!.onDone(KubeApiError.fromResponse(401, 'Unauthorized'));
    watches[0]!.onDone(KubeApiError.fromResponse(403, 'Forbidden'));
    watches[0]!.onDone(null);
    expect(ends[0]).toBeInstanceOf(AuthError);
    expect((ends[1] as KubeApiError).kind).toBe('forbidden');
    expect(ends[2]).toBeNull();
  });

  it('reads the namespace, logs, node stats and pod metrics', async () => {
    const { api, sent } = scripted(
      status(404, 'NotFound', 'namespaces "x" not found'),
      status(403, 'Forbidden', 'no'),
      status(404, 'NotFound', 'nodes "n9" not found'),
      { status: 200, body: { kind: 'Node' } },
      { status: 200, text: 'line 1\nline 2\n' },
      { status: 200, body: { pods: [] } },
      { status: 200, body: { containers: [] } },
    );
    expect(await api.namespaceStatus('x')).toBe('not-found');
    expect(await api.namespaceStatus('y')).toBe('forbidden');
    expect(await api.nodeStatus('n9')).toBe('not-found');
    expect(await api.nodeStatus('n1')).toBe('exists');
    expect(await api.podLog('ns', 'web', 'c1', 1024)).toBe('line 1\nline 2\n');
    expect(await api.nodeStatsSummary('n1')).toEqual({ pods: [] });
    expect(await api.podMetrics('ns', 'web')).toEqual({ containers: [] });
    expect(sent.map((s) => `${s.verb} ${s.path}`)).toEqual([
      'GET /api/v1/namespaces/x',
      'GET /api/v1/namespaces/y',
      'GET /api/v1/nodes/n9',
      'GET /api/v1/nodes/n1',
      'GET /api/v1/namespaces/ns/pods/web/log',
      'GET /api/v1/nodes/n1/proxy/stats/summary',
      'GET /apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/web',
    ]);
    expect(sent[4]!.query).toEqual({ container: 'c1', limitBytes: 1024 });
  });
  it("reads the components' /metrics unencoded, as a large text, and a refusal as an error", async () => {
    const { api, sent } = scripted({ status: 200, text: 'a_sum 1\n' }, { status: 200, text: 'b_sum 2\n' }, status(403, 'Forbidden', 'nodes "n1" is forbidden'));
    expect(await api.componentMetrics({ component: 'apiserver' })).toEqual({ format: 'text', text: 'a_sum 1\n' });
    expect(await api.componentMetrics({ component: 'kubelet', node: 'n1' })).toEqual({ format: 'text', text: 'b_sum 2\n' });
    await expect(api.componentMetrics({ component: 'kubelet', node: 'n1' })).rejects.toMatchObject({ status: 403 });
    expect(sent.map((s) => `${s.verb} ${s.path} ${s.headers?.['Accept-Encoding']} ${s.headers?.['Accept']}`)).toEqual([
      'GET /metrics identity text/plain',
      'GET /api/v1/nodes/n1/proxy/metrics identity text/plain',
      'GET /api/v1/nodes/n1/proxy/metrics identity text/plain',
    ]);
  });

  it('asked for the protobuf form, answers the bytes when the component gave it, and the text when it did not', async () => {
    const PROTOBUF = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
    const bytes = new Uint8Array([3, 10, 1, 97]);
    const { api, sent } = scripted({ status: 200, contentType: PROTOBUF, bytes }, { status: 200, text: 'a_sum 1\n' });
    expect(await api.componentMetrics({ component: 'apiserver' }, { protobuf: true })).toEqual({ format: 'protobuf', bytes });
    expect(await api.componentMetrics({ component: 'apiserver' }, { protobuf: true })).toEqual({ format: 'text', text: 'a_sum 1\n' });
    expect(sent[0]!.headers?.['Accept']).toMatch(/^application\/vnd\.google\.protobuf;proto=io\.prometheus\.client\.MetricFamily;encoding=delimited;q=0\.9,text\/plain/);
  });

  it("reviews a resource's subresource and a non-resource URL, and reads a kubelet's /configz through the node proxy", async () => {
    const review = (allowed: boolean) => ({ status: 201, body: { kind: 'SelfSubjectAccessReview', status: { allowed } } });
    const { api, sent } = scripted(review(true), review(false), { status: 200, body: { kubeletconfig: { eventRecordQPS: 50 } } });
    expect((await api.accessReview({ verb: 'get', resource: 'nodes', subresource: 'proxy', namespace: '' })).allowed).toBe(true);
    expect((await api.nonResourceAccessReview('get', '/metrics')).allowed).toBe(false);
    expect(await api.kubeletConfig('n1')).toEqual({ kubeletconfig: { eventRecordQPS: 50 } });
    expect(sent.map((s) => `${s.verb} ${s.path}`)).toEqual([
      'POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      'POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      'GET /api/v1/nodes/n1/proxy/configz',
    ]);
    expect((sent[0]!.body as { spec: unknown }).spec).toEqual({ resourceAttributes: { verb: 'get', resource: 'nodes', namespace: '', subresource: 'proxy' } });
    expect((sent[1]!.body as { spec: unknown }).spec).toEqual({ nonResourceAttributes: { verb: 'get', path: '/metrics' } });
  });
});
