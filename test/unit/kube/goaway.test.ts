import { describe, expect, it } from 'vitest';
import { changesNothing, isGoaway } from '../../../src/kube/transport.js';

describe('a request failed by the server closing its HTTP/2 connection', () => {
  // undici 8's shape: fetch's TypeError whose cause is an InformationalError (UND_ERR_INFO)
  const goaway = new TypeError('fetch failed', {
    cause: Object.assign(new Error('HTTP/2: "GOAWAY" frame received with code 0'), { code: 'UND_ERR_INFO' }),
  });

  it('is recognised through the cause chain, and nothing else is', () => {
    expect(isGoaway(goaway)).toBe(true);
    expect(isGoaway(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))).toBe(false);
    expect(isGoaway('GOAWAY')).toBe(false);
  });

  it('is sent again only when sending it twice changes nothing', () => {
    expect(changesNothing('GET', '/api/v1/namespaces/default/pods/x')).toBe(true);
    expect(changesNothing('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews')).toBe(true);
    expect(changesNothing('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')).toBe(true);
    expect(changesNothing('POST', '/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews')).toBe(true);
    expect(changesNothing('POST', '/api/v1/namespaces/default/pods')).toBe(false);
    expect(changesNothing('POST', '/api/v1/namespaces/default/services')).toBe(false);
    expect(changesNothing('DELETE', '/api/v1/namespaces/default/pods/x')).toBe(false);
  });
});
