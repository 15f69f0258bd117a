import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../src/kube/errors.js';
import { ObservationLog } from '../../../src/collect/observation-log.js';
import { ResilientWatch } from '../../../src/collect/resilient-watch.js';
import { FakeTransport, settle } from './fake-transport.js';

const pod = (rv: string, extra: Record<string, unknown> = {}) => ({ kind: 'Pod', metadata: { name: 'p', resourceVersion: rv }, ...extra });

function setup(options: ConstructorParameters<typeof ResilientWatch>[3] = {}) {
  let now = 1_000;
  const log = new ObservationLog({ now: () => (now += 1) });
  const transport = new FakeTransport();
  const sleeps: number[] = [];
  const watch = new ResilientWatch(
    { name: 'pod', source: 'pod', what: { resource: 'pods', namespace: 'ns' }, fieldSelector: 'metadata.name=p' },
    transport,
    log,
    {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...options,
    },
  );
  const summary = () => log.observations.map((o) => `${o.source}:${o.type}`);
  return { log, transport, watch, sleeps, summary };
}

describe('ResilientWatch', () => {
  it('lists, then watches from the list resourceVersion with bookmarks', async () => {
    const { transport, watch, log, summary } = setup();
    transport.list('100', [pod('90')]);
    await watch.start();
    expect(transport.requests[0]).toEqual({ verb: 'LIST', what: { resource: 'pods', namespace: 'ns' }, selectors: { fieldSelector: 'metadata.name=p' } });
    expect(transport.lastStream.query).toEqual({ fieldSelector: 'metadata.name=p', allowWatchBookmarks: true, resourceVersion: '100' });
    expect(summary()).toEqual(['pod:LIST', 'client:watch-started']);
    expect(log.observations[1]!.data).toEqual({ watch: 'pod', resourceVersion: '100' });

    transport.lastStream.send('ADDED', pod('101'));
    transport.lastStream.send('BOOKMARK', { kind: 'Pod', metadata: { resourceVersion: '150' } });
    transport.lastStream.send('MODIFIED', pod('102'));
    expect(summary()).toEqual(['pod:LIST', 'client:watch-started', 'pod:ADDED', 'pod:MODIFIED']);
    expect(log.observations.map((o) => o.seq)).toEqual([0, 1, 2, 3]);
    expect(log.observations[2]!.object).toEqual(pod('101'));
    expect(watch.resourceVersion).toBe('102');
    watch.stop();
  });

  it('start() resolves to the resourceVersion it listed at, not where the watch has got to since', async () => {
    const { transport, watch } = setup();
    transport.list('100');
    const at = watch.start();
    expect(await at).toBe('100');
    transport.lastStream.send('ADDED', pod('130'));
    expect(watch.resourceVersion).toBe('130');
    watch.stop();
  });

  it('start(from) watches from a resourceVersion listed elsewhere, without a LIST of its own', async () => {
    const { transport, watch, summary } = setup();
    expect(await watch.start('500')).toBe('500');
    expect(transport.requests).toEqual([]);
    expect(transport.lastStream.query).toEqual({ fieldSelector: 'metadata.name=p', allowWatchBookmarks: true, resourceVersion: '500' });
    expect(summary()).toEqual(['client:watch-started']);
    watch.stop();
  });

  it('start(from) lists after all when the server says that resourceVersion is too old (410)', async () => {
    const { transport, watch, summary } = setup();
    transport.watchFailures.push(new KubeApiError(410, 'Expired', 'too old resource version: 5 (90)', undefined, undefined));
    transport.list('100');
    await watch.start('5');
    expect(transport.requests.map((r) => r.verb)).toEqual(['LIST']);
    expect(transport.lastStream.query['resourceVersion']).toBe('100');
    expect(summary()).toEqual(['client:watch-started']);
    watch.stop();
  });

  it('start(from): a 410 ERROR as the stream\'s first event lists after all, with no gap', async () => {
    const { transport, watch, summary } = setup();
    await watch.start('5');
    transport.list('100', [pod('90')]);
    transport.lastStream.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 5 (90)' });
    await settle();
    expect(transport.requests.map((r) => r.verb)).toEqual(['LIST']);
    expect(transport.streams).toHaveLength(2);
    expect(transport.streams[0]!.aborted).toBe(true);
    expect(transport.lastStream.query['resourceVersion']).toBe('100');
    expect(summary()).toEqual(['client:watch-started', 'pod:LIST', 'client:relist']);
    watch.stop();
    expect(summary()).not.toContain('client:watch-gap');
  });

  it('a 410 ERROR after the stream has delivered something is a gap as always', async () => {
    const { transport, watch, summary } = setup();
    await watch.start('5');
    transport.lastStream.send('ADDED', pod('6'));
    transport.list('100');
    transport.lastStream.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    await settle();
    watch.stop();
    expect(summary()).toContain('client:watch-gap');
  });

  it('start(from) rejects on any other error, so the caller decides', async () => {
    const { transport, watch } = setup();
    transport.watchFailures.push(new KubeApiError(403, 'Forbidden', 'events is forbidden', undefined, undefined));
    await expect(watch.start('5')).rejects.toMatchObject({ status: 403 });
    expect(transport.requests).toEqual([]);
  });

  it('resumes from the last resourceVersion (bookmarks too) after the stream ends, recording a gap', async () => {
    const { transport, watch, log, summary, sleeps } = setup();
    transport.list('100');
    await watch.start();
    transport.lastStream.send('BOOKMARK', { metadata: { resourceVersion: '120' } });
    transport.lastStream.end(null);
    await settle();
    expect(transport.streams).toHaveLength(2);
    expect(transport.lastStream.query['resourceVersion']).toBe('120');
    expect(sleeps).toEqual([]); // a clean close resumes at once
    expect(summary()).toEqual(['client:watch-started', 'client:watch-gap']);
    const gap = log.observations[1]!.data!;
    expect(gap).toMatchObject({ watch: 'pod', reason: 'closed' });
    expect(gap['to']).toBeGreaterThan(gap['from'] as number);
    expect(transport.requests).toHaveLength(1); // no relist needed
    watch.stop();
  });

  it("treats client-node's 30 s idle timeout as a normal close", async () => {
    const { transport, watch, log } = setup();
    transport.list('1');
    await watch.start();
    transport.lastStream.end(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    await settle();
    expect(log.observations.at(-1)!.data).toMatchObject({ reason: 'closed', error: expect.stringMatching(/idle timeout/) });
    expect(transport.streams).toHaveLength(2);
    watch.stop();
  });

  it('relists on a 410 ERROR event and watches from the new resourceVersion', async () => {
    const { transport, watch, summary, log } = setup();
    transport.list('100');
    await watch.start();
    transport.list('500', [pod('480')]);
    transport.lastStream.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 100 (450)' });
    await settle();
    expect(transport.streams[0]!.aborted).toBe(true);
    expect(transport.requests).toHaveLength(2);
    expect(transport.lastStream.query['resourceVersion']).toBe('500');
    expect(summary()).toEqual(['client:watch-started', 'pod:LIST', 'client:relist', 'client:watch-gap']);
    expect(log.observations[2]!.data).toEqual({ watch: 'pod', resourceVersion: '500', items: 1 });
    expect(log.observations[3]!.data).toMatchObject({ reason: '410-gone', error: expect.stringContaining('too old') });
    watch.stop();
  });

  it('relists when the error itself says 410', async () => {
    const { transport, watch, log } = setup();
    transport.list('1');
    await watch.start();
    transport.list('9');
    transport.lastStream.end(new KubeApiError(410, 'Expired', 'Gone', undefined, undefined));
    await settle();
    expect(transport.requests).toHaveLength(2);
    expect(log.observations.at(-1)!.data).toMatchObject({ reason: '410-gone' });
    watch.stop();
  });

  it('backs off exponentially while reconnecting fails, then records one gap', async () => {
    const { transport, watch, sleeps, log } = setup({ initialBackoffMs: 100, maxBackoffMs: 300 });
    transport.list('1');
    await watch.start();
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    transport.watchFailures.push(refused, refused, refused);
    transport.lastStream.end(refused);
    await settle(20);
    expect(sleeps).toEqual([100, 200, 300, 300]);
    expect(transport.streams).toHaveLength(2);
    const gaps = log.observations.filter((o) => o.type === 'watch-gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.data).toMatchObject({ reason: 'error', error: 'fetch failed' });
    watch.stop();
  });

  it('ignores events from a stream it has replaced', async () => {
    const { transport, watch, summary } = setup();
    transport.list('1');
    await watch.start();
    const old = transport.lastStream;
    old.end(null);
    await settle();
    old.send('ADDED', pod('2'));
    transport.lastStream.send('ADDED', pod('3'));
    expect(summary().filter((s) => s === 'pod:ADDED')).toHaveLength(1);
    watch.stop();
  });

  it('records a gap still open at stop, and then stays quiet', async () => {
    const { transport, watch, log } = setup({
      sleep: (ms, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
    });
    transport.list('1');
    await watch.start();
    transport.lastStream.end(new Error('boom'));
    await settle();
    expect(log.observations.filter((o) => o.type === 'watch-gap')).toHaveLength(0);
    watch.stop();
    await settle();
    const gaps = log.observations.filter((o) => o.type === 'watch-gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.data).toMatchObject({ reason: 'error', error: 'boom' });
    expect(transport.streams).toHaveLength(1);
  });

  it('start() rejects when the first LIST fails, so the caller decides', async () => {
    const { transport, watch } = setup();
    transport.listAnswers.push(new KubeApiError(403, 'Forbidden', 'pods is forbidden', undefined, undefined));
    await expect(watch.start()).rejects.toThrow(/forbidden/);
  });

  it('startInBackground() keeps trying, and gives up quietly on fatal statuses', async () => {
    const { transport, watch, log, summary } = setup({ fatalKinds: ['forbidden'] });
    transport.listAnswers.push(new Error('connect ECONNREFUSED'));
    transport.list('7');
    watch.startInBackground();
    await settle(10);
    expect(summary()).toEqual(['client:watch-started', 'client:watch-gap']);
    expect(transport.lastStream.query['resourceVersion']).toBe('7');
    watch.stop();

    const denied = setup({ fatalKinds: ['forbidden'] });
    denied.transport.listAnswers.push(new KubeApiError(403, 'Forbidden', 'nodes is forbidden', undefined, undefined));
    denied.watch.startInBackground();
    await settle(10);
    expect(denied.transport.streams).toHaveLength(0);
    expect(denied.transport.requests).toHaveLength(1);
    denied.watch.stop();
    expect(denied.summary()).toEqual(['client:watch-gap']);
    expect(denied.log.observations[0]!.data).toMatchObject({ reason: 'error', error: expect.stringContaining('403') });
    void log;
  });
});
