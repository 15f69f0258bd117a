import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PodDemux, withoutManagedFields } from '../../../src/collect/pod-demux.js';
import { shareUnchanged } from '../../../src/collect/share-unchanged.js';
import type { Observation } from '../../../src/trace/observation.js';

/** The pod objects a real run saw (ready-nginx: created, bound, started, Ready, deleted), each as parsed. */
const recording = readFileSync(new URL('../../fixtures/recordings/ready-nginx.ndjson', import.meta.url), 'utf8').trim().split('\n').slice(1);
const podLines = recording.filter((line) => (JSON.parse(line) as Observation).source === 'pod');
const versions = () => podLines.map((line) => (JSON.parse(line) as Observation).object as { metadata: Record<string, unknown>; spec: Record<string, unknown>; status: Record<string, unknown> });

describe('shareUnchanged', () => {
  it("leaves every version of a real pod equal to itself, sharing what it repeats of the one before", () => {
    const originals = versions();
    const shared = versions();
    for (let i = 1; i < shared.length; i++) shared[i] = shareUnchanged(shared[i - 1], shared[i]) as (typeof shared)[number];
    expect(shared).toEqual(originals);
    // the spec is the same after the binding (nodeName set): one copy for the later versions
    const bound = shared.findIndex((p) => p.spec.nodeName !== undefined);
    expect(bound).toBeGreaterThan(0);
    expect(shared[bound + 1]!.spec).toBe(shared[bound]!.spec);
    // the binding changed the spec: not the same object, yet its containers are
    expect(shared[bound]!.spec).not.toBe(shared[bound - 1]!.spec);
    expect(shared[bound]!.spec.containers).toBe(shared[bound - 1]!.spec.containers);
    // what changed is not shared
    expect(shared[bound]!.metadata.resourceVersion).not.toBe(shared[bound - 1]!.metadata.resourceVersion);
    expect(shared.at(-1)!.status).not.toBe(shared[0]!.status);
  });

  it('gives the older value when the two are equal throughout, the newer when a key is added or removed', () => {
    const prev = { a: [1, { b: 'x' }], c: null };
    expect(shareUnchanged(prev, { a: [1, { b: 'x' }], c: null })).toBe(prev);
    const added = { a: [1, { b: 'x' }], c: null, d: 1 };
    expect(shareUnchanged(prev, added)).toBe(added);
    expect(added.a).toBe(prev.a);
    const removed = { a: [1, { b: 'x' }] };
    expect(shareUnchanged(prev, removed)).toBe(removed);
    const longer = [1, { b: 'x' }, 2];
    expect(shareUnchanged(prev.a, longer)).toBe(longer);
    expect(longer[1]).toBe(prev.a[1]);
    // an array is not an object with the same keys
    expect(shareUnchanged({ 0: 1 }, [1])).toEqual([1]);
    expect(shareUnchanged('a', 'b')).toBe('b');
    // a key named __proto__ (an own key once parsed) is left as it came, and the object's prototype too
    const parsed = JSON.parse('{"__proto__": {"x": 1}, "y": [1]}') as Record<string, unknown>;
    const again = JSON.parse('{"__proto__": {"x": 1}, "y": [1]}') as Record<string, unknown>;
    const shared = shareUnchanged(parsed, again) as Record<string, unknown>;
    expect(shared).toBe(again);
    expect(Object.getPrototypeOf(shared)).toBe(Object.prototype);
    expect(shared['y']).toBe(parsed['y']);
  });
});

describe('PodDemux sharing', () => {
  it("keeps a pod's versions as they came, and the parts two pods alike repeat once", () => {
    const demux = new PodDemux(0, { podChanged: () => {}, doneChanged: () => {}, newNode: () => {} });
    demux.initialListDone = true;
    const originals: unknown[] = [];
    for (const name of ['web-a', 'web-b']) {
      for (const line of podLines.filter((l) => !l.includes('"DELETED"'))) {
        const renamed = line.replaceAll('podtrace-nginx-j6h2x', name);
        originals.push(withoutManagedFields(JSON.parse(renamed) as Observation).object);
        demux.route(withoutManagedFields(JSON.parse(renamed) as Observation));
      }
    }
    const kept = ['web-a', 'web-b'].flatMap((name) => demux.pods.get(name)!.observations.map((o) => o.object));
    expect(kept).toEqual(originals);
    const [a, b] = ['web-a', 'web-b'].map((name) => demux.pods.get(name)!.observations[0]!.object as { metadata: { name: string }; spec: { containers: unknown[] } });
    expect(a!.metadata.name).toBe('web-a');
    expect(b!.metadata.name).toBe('web-b');
    // the second pod's first version shares the containers of the first pod's versions (one copy for both pods)
    expect(b!.spec.containers).toBe(a!.spec.containers);
  });
});
