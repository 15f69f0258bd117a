import { describe, expect, it } from 'vitest';
import { PodDemux, type TrackedPod } from '../../../src/collect/pod-demux.js';
import type { Observation } from '../../../src/trace/observation.js';

let seq = 0;
const obs = (source: Observation['source'], type: string, object: unknown): Observation => ({ seq: seq++, source, type, observedAt: 1_700_000_000_000 + seq, object });
const pod = (name: string) => ({ metadata: { name, uid: `uid-${name}`, creationTimestamp: '2030-01-01T00:00:00Z' }, spec: {} });
const event = (kind: string, name: string, reason: string) => ({ involvedObject: { kind, name, ...(kind === 'Pod' ? { uid: `uid-${name}` } : {}) }, reason });

describe('PodDemux', () => {
  it("keeps an event that overtook its pod's ADDED for that pod, and none about other kinds of object", () => {
    const changed: string[] = [];
    const demux = new PodDemux(0, { podChanged: (p: TrackedPod) => changed.push(p.name), doneChanged: () => {}, newNode: () => {} });
    demux.initialListDone = true;
    // a ReplicaSet's SuccessfulCreate for each pod it makes: about the ReplicaSet, not kept anywhere
    for (let i = 0; i < 3; i++) demux.route(obs('event', 'ADDED', event('ReplicaSet', 'web-5d8f', 'SuccessfulCreate')));
    demux.route(obs('event', 'ADDED', event('Pod', 'web-5d8f-abc', 'Scheduled')));
    demux.route(obs('pod', 'ADDED', pod('web-5d8f-abc')));
    const tracked = demux.pods.get('web-5d8f-abc')!;
    expect(tracked.observations.map((o) => (o.object as { reason?: string }).reason ?? o.type)).toEqual(['Scheduled', 'ADDED']);
    expect(changed).toEqual(['web-5d8f-abc']);
    // a pod that happens to share the ReplicaSet's name does not inherit its events
    demux.route(obs('pod', 'ADDED', pod('web-5d8f')));
    expect(demux.pods.get('web-5d8f')!.observations.map((o) => o.type)).toEqual(['ADDED']);
  });

  it('a frozen pod is no longer tracked, and what comes later about it reaches no one', () => {
    const changed: string[] = [];
    const doneChanged: string[] = [];
    const demux = new PodDemux(0, { podChanged: (p: TrackedPod) => changed.push(p.name), doneChanged: (p: TrackedPod) => doneChanged.push(p.name), newNode: () => {} });
    demux.initialListDone = true;
    demux.route(obs('pod', 'ADDED', pod('web-1')));
    const tracked = demux.pods.get('web-1')!;
    tracked.done = true;
    demux.freeze(tracked);
    expect(tracked.observations).toEqual([]);
    expect(demux.pods.has('web-1')).toBe(false);
    // its later pod objects and events are dropped, and it is not traced again as a new pod
    demux.route(obs('pod', 'MODIFIED', pod('web-1')));
    demux.route(obs('pod', 'ADDED', pod('web-1')));
    demux.route(obs('event', 'ADDED', event('Pod', 'web-1', 'Killing')));
    expect(demux.pods.has('web-1')).toBe(false);
    expect(changed).toEqual(['web-1']);
    expect(doneChanged).toEqual([]);
    // others are still traced
    demux.route(obs('pod', 'ADDED', pod('web-2')));
    expect(changed).toEqual(['web-1', 'web-2']);
  });
});
