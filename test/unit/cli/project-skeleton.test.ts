/**
 * What the project promises users of kind and of npm, read from the files
 * they use: the kind cluster's shape and kubelet settings, the package's
 * engines, bins and runtime dependencies, strict TypeScript.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.join(import.meta.dirname, '..', '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

describe('project skeleton', () => {
  it('kind-config.yaml: one control plane, one worker, kubelet events never rate-limited, tracing as a commented example that parses', () => {
    const text = read('kind-config.yaml');
    const config = parse(text) as { kind: string; nodes: Array<{ role: string }>; kubeadmConfigPatches: string[] };
    expect(config.kind).toBe('Cluster');
    expect(config.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker']);
    const kubelet = config.kubeadmConfigPatches.map((p) => parse(p) as Record<string, unknown>).find((p) => p.kind === 'KubeletConfiguration');
    // not 0: the kubelet hands it to client-go, which reads 0 as 5 events per second
    expect(kubelet).toMatchObject({ eventRecordQPS: 1000, eventBurst: 1000 });
    // uncommenting the example (indented YAML lines, not the prose around them) gives a config with tracing on
    const uncommented = text.replace(/^(\s{4,})# ?(\s*(?:- |[A-Za-z][\w.-]*:|\|).*)$/gm, '$1$2');
    const on = parse(uncommented) as {
      nodes: Array<{ kubeadmConfigPatches?: string[]; extraMounts?: Array<{ containerPath: string }> }>;
      kubeadmConfigPatches: string[];
    };
    const apiServer = parse(on.nodes[0]!.kubeadmConfigPatches![0]!) as { apiServer: { extraArgs: Record<string, string> } };
    expect(apiServer.apiServer.extraArgs['tracing-config-file']).toBe('/etc/kubernetes/tracing.yaml');
    expect(on.nodes[0]!.extraMounts![0]!.containerPath).toBe('/etc/kubernetes/tracing.yaml');
    const kubeletOn = on.kubeadmConfigPatches.map((p) => parse(p) as Record<string, unknown>).find((p) => p.kind === 'KubeletConfiguration');
    expect(kubeletOn).toMatchObject({ eventRecordQPS: 1000, eventBurst: 1000, tracing: { samplingRatePerMillion: 1000000 } });
  });

  it('package.json: Node >= 22.22, the podtrace and kubectl-podtrace bins, prepack builds, the libraries bundled (none needed at install)', () => {
    const pkg = JSON.parse(read('package.json')) as {
      engines: Record<string, string>;
      bin: Record<string, string>;
      scripts: Record<string, string>;
      dependencies?: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe('>=22.22');
    expect(pkg.bin).toEqual({ podtrace: 'bin/podtrace.js', 'kubectl-podtrace': 'bin/podtrace.js' });
    expect(pkg.scripts['prepack']).toMatch(/npm run --silent build/);
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.devDependencies['@kubernetes/client-node']).toMatch(/^\^?2\./);
    for (const dep of ['commander', 'cli-table3', 'ora']) expect(Object.keys(pkg.devDependencies)).toContain(dep);
    expect(JSON.parse(read('tsconfig.json')).compilerOptions.strict).toBe(true);
  });
});
