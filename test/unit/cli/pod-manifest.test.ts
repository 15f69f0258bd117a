import { describe, expect, it } from 'vitest';
import { createCLI } from '../../../src/cli.js';
import { planCreate, type CreateInput } from '../../../src/commands/create-plan.js';
import { finalizeManifest } from '../../../src/commands/pod-manifest.js';
import { memoryStream } from './fake-kube.js';

/** What `podtrace create ARGV` hands the command, parsed by the real option table. */
function input(argv: string[]): CreateInput {
  const parsed = createCLI({ stdout: memoryStream(), stderr: memoryStream(), env: {} }).parse(['create', ...argv]);
  if (parsed.command !== 'create') throw new Error(`not a create: ${parsed.command}`);
  return parsed.input;
}
const fixed = { index: () => 0, now: Date.UTC(2025, 0, 1) };

describe('the manifest built from flags', () => {
  it('is one container named after the image, with only what was asked for', () => {
    const plan = planCreate(input(['registry.local:5000/team/my_app:v2']), fixed);
    expect(plan.podName).toBe('podtrace-my-app-bbbbb');
    expect(plan.manifest).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {},
      spec: { containers: [{ name: 'my-app', image: 'registry.local:5000/team/my_app:v2' }] },
    });
    expect(plan).toMatchObject({ timeoutMs: 300_000, output: 'table', keep: false, image: 'registry.local:5000/team/my_app:v2' });
  });

  it('carries every container flag', () => {
    const plan = planCreate(
      input([
        'busybox',
        '--command',
        '--pull-policy',
        'never',
        '--requests',
        'cpu=100m,memory=64Mi',
        '--limits',
        'memory=128Mi',
        '--port',
        '8080',
        '--readiness',
        'http:8080/healthz',
        '--env',
        'A=1',
        '--node-selector',
        'kubernetes.io/os=linux',
        '--timeout',
        '90s',
        '--',
        'sh',
        '-c',
        'sleep 3600',
      ]),
      fixed,
    );
    expect(plan.manifest.spec).toEqual({
      containers: [
        {
          name: 'busybox',
          image: 'busybox',
          imagePullPolicy: 'Never',
          command: ['sh', '-c', 'sleep 3600'],
          env: [{ name: 'A', value: '1' }],
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
          readinessProbe: { httpGet: { port: 8080, path: '/healthz' }, periodSeconds: 1, failureThreshold: 3 },
        },
      ],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
    });
    expect(plan.timeoutMs).toBe(90_000);
    const args = planCreate(input(['busybox', '--', '--verbose']), fixed);
    expect(args.manifest.spec.containers[0]).toEqual({ name: 'busybox', image: 'busybox', args: ['--verbose'] });
  });

  it('gets its name, namespace and podtrace labels last, keeping the manifest labels', () => {
    const manifest = finalizeManifest(
      { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-', labels: { app: 'web' } }, spec: { containers: [] } },
      { name: 'web-abcde', namespace: 'team', runId: 'r1' },
    );
    expect(manifest.metadata).toEqual({
      name: 'web-abcde',
      namespace: 'team',
      labels: { app: 'web', 'app.kubernetes.io/managed-by': 'podtrace', 'podtrace.dev/run': 'r1' },
    });
  });
});

describe('-f manifests', () => {
  it('resolves generateName before the POST and takes the namespace from the manifest', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'podtrace-f-')), 'pod.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: web-\n  namespace: team\n  labels: {app: web}\nspec:\n  containers:\n  - name: web\n    image: nginx:1.27\n',
    );
    const plan = planCreate(input(['-f', file]), fixed);
    expect(plan).toMatchObject({ podName: 'web-bbbbb', namespace: 'team', image: 'nginx:1.27' });
    expect(plan.manifest.metadata).toEqual({ generateName: 'web-', namespace: 'team', labels: { app: 'web' } });
    expect(planCreate(input(['-f', file, '-n', 'team', '--name', 'explicit']), fixed)).toMatchObject({ podName: 'explicit', namespace: 'team' });
  });
});
