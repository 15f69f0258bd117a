/**
 * Load (issue: reliability): 20 `podtrace create` processes at once against
 * the local cluster. Every trace completes, each recording holds only its own
 * pod's objects and events, and no pod is left behind.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import { parseRecording } from '../../src/trace/recording.js';
import type { Trace } from '../../src/trace/types.js';
import { clients, ensureNamespace, kubeconfigPath, runPodtrace, uniqueName } from './harness.js';

const NAMESPACE = 'podtrace-load';
const CONCURRENT = 20;
const cwd = mkdtempSync(path.join(tmpdir(), 'podtrace-load-'));

afterAll(async () => {
  await clients()
    .core.deleteCollectionNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=podtrace', gracePeriodSeconds: 0 })
    .catch(() => undefined);
});

/** The pod a recorded pod or pod-event object is about (KIND/NAME for anything else). */
function subject(object: Record<string, unknown>): string | undefined {
  const ref = (object['involvedObject'] ?? object['regarding']) as { kind?: string; name?: string } | undefined;
  if (ref) return ref.kind === 'Pod' ? ref.name : `${ref.kind}/${ref.name}`;
  return (object['metadata'] as { name?: string } | undefined)?.name;
}

describe('load', () => {
  it(`${CONCURRENT} concurrent creates: every trace completes, none mixed up, nothing left`, async () => {
    await ensureNamespace(NAMESPACE);
    const names = Array.from({ length: CONCURRENT }, () => uniqueName('load'));
    const results = await Promise.all(
      names.map((name) =>
        runPodtrace(
          ['create', 'nginx', '--name', name, '-n', NAMESPACE, '--kubeconfig', kubeconfigPath(), '-q', '--timeout', '4m']
            .concat(['--out', `${name}.json`, '--record', `${name}.ndjson`]),
          cwd,
        ),
      ),
    );
    for (const [i, result] of results.entries()) expect(result.code, `${names[i]}: ${result.stderr}`).toBe(EXIT.ok);

    const uids = new Set<string>();
    for (const name of names) {
      const trace = JSON.parse(readFileSync(path.join(cwd, `${name}.json`), 'utf8')) as Trace;
      expect(trace.outcome.class).toBe('ready');
      expect(trace.run.complete).toBe(true);
      expect(trace.pod.name).toBe(name);
      expect(trace.milestones.map((m) => m.id)).toContain('teardown.pod-gone');
      uids.add(String(trace.pod.uid));
      // every pod object and pod event the run observed is about its own pod
      const { observations } = parseRecording(readFileSync(path.join(cwd, `${name}.ndjson`), 'utf8'));
      const about = new Set<string>();
      for (const o of observations) {
        if (!['pod', 'event', 'eventsv1'].includes(o.source) || o.object === undefined) continue;
        const s = subject(o.object as Record<string, unknown>);
        if (s !== undefined) about.add(s);
      }
      // the node's own events are shared by every run on purpose; no other pod's are
      expect([...about].filter((s) => !s.startsWith('Node/'))).toEqual([name]);
    }
    expect(uids.size).toBe(CONCURRENT);

    const left = await clients().core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=podtrace' });
    expect(left.items.map((p) => p.metadata?.name)).toEqual([]);
  });
});
