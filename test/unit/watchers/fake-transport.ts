import type { HttpVerb, QueryParams, RawResponse, WatchDoneHandler, WatchEventHandler, WatchHandle } from '../../../src/kube/types.js';

export interface FakeStream {
  path: string;
  query: QueryParams;
  aborted: boolean;
  send(type: string, object: unknown): void;
  /** The server (or client-node's idle timer) ends the stream. */
  end(error?: unknown): void;
}

/** A scripted API server for the watchers: LIST answers from a queue, watch streams driven by the test. */
export class FakeTransport {
  readonly requests: Array<{ verb: HttpVerb; path: string; query?: QueryParams }> = [];
  readonly streams: FakeStream[] = [];
  readonly listAnswers: Array<RawResponse | Error> = [];
  /** Errors for the next watch() calls, delivered through onDone before watch() resolves (as client-node does). */
  readonly watchFailures: unknown[] = [];

  list(resourceVersion: string, items: unknown[] = []): this {
    this.listAnswers.push({ status: 200, body: { kind: 'List', metadata: { resourceVersion }, items } });
    return this;
  }

  async request(verb: HttpVerb, path: string, options: { query?: QueryParams } = {}): Promise<RawResponse> {
    this.requests.push({ verb, path, ...(options.query ? { query: options.query } : {}) });
    const answer = this.listAnswers.shift();
    if (answer === undefined) throw new Error(`unexpected request ${verb} ${path}`);
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async watch(path: string, query: QueryParams, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<WatchHandle> {
    if (this.watchFailures.length > 0) {
      onDone(this.watchFailures.shift());
      return { abort: () => {} };
    }
    let done = false;
    const finish = (error: unknown): void => {
      if (done) return;
      done = true;
      // client-node reports the end from stream callbacks, i.e. on a later turn.
      setImmediate(() => onDone(error));
    };
    const stream: FakeStream = {
      path,
      query,
      aborted: false,
      send: (type, object) => {
        if (!done) onEvent(type, object);
      },
      end: (error = null) => finish(error),
    };
    this.streams.push(stream);
    return {
      abort: () => {
        stream.aborted = true;
        finish(null);
      },
    };
  }

  get lastStream(): FakeStream {
    const stream = this.streams.at(-1);
    if (!stream) throw new Error('no watch stream opened');
    return stream;
  }
}

export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await tick();
}
