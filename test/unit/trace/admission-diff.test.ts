import { describe, expect, it } from 'vitest';
import { diffAdmission } from '../../../src/trace/admission-diff.js';

describe('diffAdmission', () => {
  const submitted = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web' }, creationTimestamp: null },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27', resources: null }], tolerations: undefined },
  };
  const stored = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'u',
      resourceVersion: '42',
      creationTimestamp: '2025-11-24T16:40:00Z',
      generation: 1,
      managedFields: [{ manager: 'podtrace' }],
      labels: { app: 'web', 'policy.example/injected': 'yes' },
    },
    spec: {
      containers: [{ name: 'web', image: 'docker.io/library/nginx:1.27', imagePullPolicy: 'IfNotPresent' }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      volumes: [{ name: 'kube-api-access-x', projected: { defaultMode: 420 } }],
    },
    status: { phase: 'Pending' },
  };

  it('lists what defaulting and admission changed, by path, each with its likely origin', () => {
    expect(diffAdmission(submitted, stored)).toEqual([
      { path: 'metadata.labels["policy.example/injected"]', op: 'added', after: 'yes', origin: 'admission' },
      { path: 'metadata.namespace', op: 'added', after: 'default', origin: 'defaulting' },
      // the API server never rewrites an image: a policy did
      { path: 'spec.containers[0].image', op: 'changed', before: 'nginx:1.27', after: 'docker.io/library/nginx:1.27', origin: 'admission' },
      { path: 'spec.containers[0].imagePullPolicy', op: 'added', after: 'IfNotPresent', origin: 'defaulting' },
      { path: 'spec.tolerations', op: 'added', after: stored.spec.tolerations, origin: 'defaulting' },
      { path: 'spec.volumes', op: 'added', after: stored.spec.volumes, origin: 'defaulting' },
    ]);
  });

  it('reports removals and array length changes element by element', () => {
    const a = { spec: { containers: [{ name: 'a' }, { name: 'b', env: [{ name: 'X', value: '1' }] }] } };
    const b = { spec: { containers: [{ name: 'a' }, { name: 'b' }], volumes: [] } };
    expect(diffAdmission(a, b)).toEqual([
      { path: 'spec.containers[1].env', op: 'removed', before: [{ name: 'X', value: '1' }], origin: 'admission' },
      // an empty list of volumes is not the ServiceAccount token volume: not defaulting
      { path: 'spec.volumes', op: 'added', after: [], origin: 'admission' },
    ]);
  });

  it('is empty for identical objects', () => {
    expect(diffAdmission(stored, structuredClone(stored))).toEqual([]);
  });
});
