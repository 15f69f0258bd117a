import type { ObjectList, Selectors, WatchDoneHandler, WatchedResource, WatchEventHandler, WatchHandle, WatchQuery } from '../../../src/kube/types.js';

export interface FakeStream {
  what: WatchedResource;
  query: WatchQuery;
  aborted: boolean;
  send(type: string, object: unknown): void;
  /** The server (or client-node's idle timer) ends the stream. */
  end(error?: unknown): void;
}

/** A scripted cluster API for the watchers: LIST answers from a queue, watch streams driven by the test. */
export class FakeTransport {
  readonly requests: Array<{ verb: 'LIST'; what: WatchedResource; selectors: Selectors }> = [];
  readonly streams: FakeStream[] = [];
  readonly listAnswers: Array<ObjectList | Error> = [];
  /** Errors for the next watch() calls, delivered through onDone before watch() resolves (as client-node does). */
  readonly watchFailures: unknown[] = [];
  /** Answers of getNode, by node name (absent: an error). */
  readonly nodes = new Map<string, unknown>();

  list(resourceVersion: string, items?: unknown[]): this;
  list(what: WatchedResource, selectors: Selectors): Promise<ObjectList>;
  list(first: string | WatchedResource, second?: unknown): this | Promise<ObjectList> {
    if (typeof first === 'string') {
      this.listAnswers.push({ resourceVersion: first, items: (second as unknown[] | undefined) ?? [] });
      return this;
    }
    return this.#answer(first, (second ?? {}) as Selectors);
  }

  async #answer(what: WatchedResource, selectors: Selectors): Promise<ObjectList> {
    this.requests.push({ verb: 'LIST', what, selectors: dropUndefined(selectors) });
    const answer = this.listAnswers.shift();
    if (answer === undefined) throw new Error(`unexpected LIST of ${what.resource}`);
    if (answer instanceof Error) throw answer;
    return answer;
  }

  async getNode(name: string): Promise<unknown> {
    if (!this.nodes.has(name)) throw new Error(`no node ${name}`);
    return this.nodes.get(name);
  }

  async watch(what: WatchedResource, query: WatchQuery, onEvent: WatchEventHandler, onDone: WatchDoneHandler): Promise<WatchHandle> {
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
      what,
      query: dropUndefined(query),
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

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function settle(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await tick();
}
