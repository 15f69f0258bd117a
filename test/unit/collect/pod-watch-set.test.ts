import { describe, expect, it } from 'vitest';
import { ObservationLog } from '../../../src/collect/observation-log.js';
import { PodWatchSet } from '../../../src/collect/pod-watch-set.js';
import { FakeTransport, settle } from './fake-transport.js';

describe('PodWatchSet', () => {
  it('opens pod, core/v1 event and events.k8s.io watches before resolving start(); only the pods are listed', async () => {
    const transport = new FakeTransport();
    transport.list('10');
    const log = new ObservationLog();
    const set = new PodWatchSet(transport, log, { namespace: 'demo', podName: 'web' });
    await set.start();
    expect(transport.streams.map((s) => [s.what, s.query.fieldSelector])).toEqual([
      [{ resource: 'pods', namespace: 'demo' }, 'metadata.name=web'],
      [{ resource: 'events', namespace: 'demo' }, 'involvedObject.name=web'],
      [{ resource: 'eventsv1', namespace: 'demo' }, 'regarding.name=web'],
    ]);
    // the event watches start where the pod LIST was: no LIST of the namespace's events
    expect(transport.requests.map((r) => r.what)).toEqual([{ resource: 'pods', namespace: 'demo' }]);
    expect(transport.streams.map((s) => s.query['resourceVersion'])).toEqual(['10', '10', '10']);
    expect(log.observations.filter((o) => o.type === 'watch-started').map((o) => o.data!['watch'])).toEqual(['pod', 'event', 'eventsv1']);
    set.stop();
  });

  it('follows the node once the pod is bound, and reads it once', async () => {
    const transport = new FakeTransport();
    transport.list('10');
    const log = new ObservationLog();
    const set = new PodWatchSet(transport, log, { namespace: 'demo', podName: 'web' });
    await set.start();
    const podStream = transport.streams[0]!;
    // node watch LIST, node events LIST, and the node itself
    transport.list('20').list('21');
    transport.nodes.set('n1', { kind: 'Node', metadata: { name: 'n1' } });
    let nodeReads = 0;
    const getNode = transport.getNode.bind(transport);
    transport.getNode = (name: string) => (nodeReads++, getNode(name));
    podStream.send('MODIFIED', { kind: 'Pod', metadata: { name: 'web', resourceVersion: '13' }, spec: { nodeName: 'n1' } });
    podStream.send('MODIFIED', { kind: 'Pod', metadata: { name: 'web', resourceVersion: '14' }, spec: { nodeName: 'n1' } });
    await settle(10);
    expect(set.nodeName).toBe('n1');
    expect(transport.streams.slice(3).map((s) => [s.what, s.query.fieldSelector])).toEqual([
      [{ resource: 'nodes' }, 'metadata.name=n1'],
      [{ resource: 'events' }, 'involvedObject.kind=Node,involvedObject.name=n1'],
    ]);
    const nodeInfo = log.observations.find((o) => o.type === 'node-info');
    expect(nodeInfo?.data).toEqual({ node: { kind: 'Node', metadata: { name: 'n1' } } });
    expect(nodeReads).toBe(1);
    set.stop();
  });

  it('reports the pod gone when the watch sees DELETED', async () => {
    const transport = new FakeTransport();
    transport.list('10');
    const log = new ObservationLog();
    const set = new PodWatchSet(transport, log, { namespace: 'demo', podName: 'web' });
    await set.start();
    const gone = set.waitUntilGone();
    transport.streams[0]!.send('DELETED', { kind: 'Pod', metadata: { name: 'web', resourceVersion: '30' } });
    await gone;
    expect(set.podGone).toBe(true);
    expect(log.observations.at(-1)).toMatchObject({ source: 'client', type: 'pod-gone', data: { via: 'watch' } });
    set.stop();
  });
});
