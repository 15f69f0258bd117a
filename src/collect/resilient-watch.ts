import { describeKubeError, isKubeError, isRecord, KubeApiError, type KubeErrorKind } from '../kube/errors.js';
import type { ClusterApi, WatchedResource, WatchHandle } from '../kube/types.js';
import type { ObservationSource } from '../trace/observation.js';
import type { ObservationLog } from './observation-log.js';

/** What one watch follows: a collection and its selectors. */
export interface WatchTarget {
  /** Names the watch in client observations (watch-started, watch-gap, relist). */
  name: string;
  source: Exclude<ObservationSource, 'client'>;
  what: WatchedResource;
  fieldSelector?: string;
  labelSelector?: string;
}

export type WatchTransport = Pick<ClusterApi, 'list' | 'watch'>;

export interface ResilientWatchOptions {
  /** First retry delay after an error; doubles up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Stop retrying after answers of these kinds (forbidden, not found: retrying will not help). */
  fatalKinds?: readonly KubeErrorKind[];
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export type GapReason = 'closed' | 'error' | '410-gone';

interface OpenGap {
  from: number;
  reason: GapReason;
  error?: string;
}

/** A watch ended with this when the server said the resourceVersion is too old. */
class GoneError extends Error {}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * List-then-watch that never gives up while the run lasts: it keeps the last
 * resourceVersion (bookmarks included), resumes from it after every
 * disconnect, relists on 410 Gone, and records every disconnect as a
 * `watch-gap` so the trace can say what it may have missed. It only observes.
 */
export class ResilientWatch {
  #resourceVersion: string | undefined;
  #handle: WatchHandle | undefined;
  #generation = 0;
  #gap: OpenGap | undefined;
  #failures = 0;
  #stopped = false;
  #started = false;
  #stopSignal = new AbortController();
  #reconnecting: Promise<void> | undefined;
  /** Started from a resourceVersion given to start(), and nothing has come on that stream yet. */
  #fromUnconfirmed = false;
  readonly #options: Required<ResilientWatchOptions>;

  constructor(
    readonly target: WatchTarget,
    private readonly transport: WatchTransport,
    private readonly log: ObservationLog,
    options: ResilientWatchOptions = {},
  ) {
    this.#options = {
      initialBackoffMs: options.initialBackoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 5000,
      fatalKinds: options.fatalKinds ?? [],
      sleep: options.sleep ?? defaultSleep,
    };
  }

  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  /**
   * Initial LIST, then the first watch connection. Rejects if either fails: the caller decides.
   * Resolves to the resourceVersion that connection started from.
   * With `from`, a resourceVersion another watch just listed at, it watches from there without a
   * LIST of its own, when what exists already does not matter (the events of a pod not created
   * yet): a LIST of events with a field selector makes the API server scan every event in the
   * namespace, 0.8 s with 54,000. Too old a `from` (410, as the answer or as the stream's first
   * event): the LIST after all, with no gap (nothing was being watched yet).
   */
  async start(from?: string): Promise<string | undefined> {
    if (from !== undefined && from !== '') {
      this.#resourceVersion = from;
      this.#fromUnconfirmed = true;
      try {
        if (await this.#connect()) {
          this.#markStarted();
          return from;
        }
      } catch (error) {
        if (!isGone(error)) throw error;
      }
      this.#fromUnconfirmed = false;
      if (this.#stopped) return from;
    }
    await this.#list();
    const at = this.#resourceVersion;
    const connected = await this.#connect();
    if (!connected) throw new Error(`watch ${this.target.name} could not be opened`);
    this.#markStarted();
    return at;
  }

  #markStarted(): void {
    if (this.#started) return;
    this.#started = true;
    this.log.client('watch-started', { watch: this.target.name, resourceVersion: this.#resourceVersion ?? '' });
  }

  /**
   * Starts and, when the first attempt fails, keeps retrying in the background
   * (recording the gap) instead of failing: for watches that add detail but are
   * not essential to the run.
   */
  startInBackground(): void {
    const startedAt = this.log.clock.now();
    void this.start().catch((error: unknown) => {
      if (this.#stopped) return;
      this.#gap ??= { from: startedAt, reason: 'error', error: describeKubeError(error) };
      if (isFatal(error, this.#options.fatalKinds)) return this.#giveUp();
      void this.#reconnect(true);
    });
  }

  /** Ends the watch; an open gap is closed at the stop time and recorded. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopSignal.abort();
    this.#handle?.abort();
    this.#handle = undefined;
    this.#closeGap(true);
  }

  async #list(): Promise<void> {
    const kind = this.#started ? 'relist' : 'initial';
    const { resourceVersion, items } = await this.transport.list(this.target.what, {
      fieldSelector: this.target.fieldSelector,
      labelSelector: this.target.labelSelector,
    });
    if (this.#stopped) return;
    this.#resourceVersion = resourceVersion;
    for (const item of items) this.log.object(this.target.source, 'LIST', item);
    if (kind === 'relist') {
      this.log.client('relist', { watch: this.target.name, resourceVersion: this.#resourceVersion ?? '', items: items.length });
    }
  }

  /** Opens one watch connection from the current resourceVersion; true when the server accepted it. */
  async #connect(): Promise<boolean> {
    const generation = ++this.#generation;
    let endedEarly: unknown = null;
    let ended = false;
    const query = {
      fieldSelector: this.target.fieldSelector,
      labelSelector: this.target.labelSelector,
      allowWatchBookmarks: true,
      resourceVersion: this.#resourceVersion,
    };
    const handle = await this.transport.watch(
      this.target.what,
      query,
      (type, object) => {
        if (generation === this.#generation) this.#onEvent(type, object);
      },
      (error) => {
        if (generation !== this.#generation) return;
        if (!ended && this.#handle === undefined) {
          ended = true;
          endedEarly = error;
          return;
        }
        this.#onDone(error);
      },
    );
    if (ended || this.#stopped) {
      handle.abort();
      if (ended && endedEarly) throw endedEarly;
      return ended ? false : true;
    }
    this.#handle = handle;
    return true;
  }

  #onEvent(type: string, object: unknown): void {
    if (this.#stopped) return;
    if (type === 'ERROR') {
      const code = isRecord(object) ? object['code'] : undefined;
      const gone = code === 410;
      if (gone && this.#fromUnconfirmed) {
        // The resourceVersion given to start() is too old for this resource: list after all, no gap.
        this.#fromUnconfirmed = false;
        this.#dropConnection();
        this.#resourceVersion = undefined;
        void this.#reconnect(false);
        return;
      }
      const message = isRecord(object) && typeof object['message'] === 'string' ? object['message'] : 'watch error';
      this.#disconnect(gone ? new GoneError(message) : new Error(`watch ERROR event: ${message}`));
      return;
    }
    this.#fromUnconfirmed = false;
    const metadata = isRecord(object) && isRecord(object['metadata']) ? object['metadata'] : undefined;
    const resourceVersion = metadata?.['resourceVersion'];
    if (typeof resourceVersion === 'string' && resourceVersion !== '') this.#resourceVersion = resourceVersion;
    if (type === 'BOOKMARK') return;
    this.log.object(this.target.source, type, object);
  }

  /** Ends the current connection ourselves (after an ERROR event) and goes through the normal done path. */
  #disconnect(error: unknown): void {
    this.#dropConnection();
    this.#onDone(error);
  }

  /** Aborts the current connection; whatever it still delivers is ignored. */
  #dropConnection(): void {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#generation++;
    handle?.abort();
  }

  #onDone(error: unknown): void {
    this.#handle = undefined;
    this.#generation++;
    if (this.#stopped) return;
    this.#gap ??= { from: this.log.clock.now(), ...classify(error) };
    void this.#reconnect(this.#gap.reason === 'error');
  }

  #reconnect(afterError: boolean): Promise<void> {
    this.#reconnecting ??= this.#reconnectLoop(afterError).finally(() => {
      this.#reconnecting = undefined;
    });
    return this.#reconnecting;
  }

  async #reconnectLoop(afterError: boolean): Promise<void> {
    let needsBackoff = afterError;
    while (!this.#stopped) {
      if (needsBackoff) {
        const delay = Math.min(this.#options.initialBackoffMs * 2 ** this.#failures, this.#options.maxBackoffMs);
        this.#failures++;
        await this.#options.sleep(delay, this.#stopSignal.signal);
        if (this.#stopped) return;
      }
      try {
        if (this.#gap?.reason === '410-gone' || this.#resourceVersion === undefined) await this.#list();
        if (this.#stopped) return;
        if (await this.#connect()) {
          this.#failures = 0;
          this.#markStarted();
          this.#closeGap();
          return;
        }
        needsBackoff = true;
      } catch (error) {
        if (this.#stopped) return;
        if (isGone(error)) {
          if (this.#gap) this.#gap.reason = '410-gone';
          this.#resourceVersion = undefined;
        } else if (this.#gap && this.#gap.error === undefined) {
          this.#gap.error = describeKubeError(error);
        }
        if (isFatal(error, this.#options.fatalKinds)) return this.#giveUp();
        needsBackoff = true;
      }
    }
  }

  /** Nothing more will come from this watch: the gap stays open until stop() records it. */
  #giveUp(): void {
    this.#handle?.abort();
    this.#handle = undefined;
  }

  /** Records the gap; `atStop`: the watch never came back before the run ended. */
  #closeGap(atStop = false): void {
    const gap = this.#gap;
    if (!gap) return;
    this.#gap = undefined;
    this.log.client('watch-gap', {
      watch: this.target.name,
      from: gap.from,
      to: this.log.clock.now(),
      reason: gap.reason,
      ...(gap.error !== undefined ? { error: gap.error } : {}),
      ...(atStop ? { unresolved: true } : {}),
    });
  }
}

/** The server said the resourceVersion is too old: as a watch ERROR event, or as the answer's status. */
function isGone(error: unknown): boolean {
  return error instanceof GoneError || isKubeError(error, 'gone');
}

function classify(error: unknown): { reason: GapReason; error?: string } {
  if (error === null || error === undefined) return { reason: 'closed' };
  if (error instanceof GoneError) return { reason: '410-gone', error: error.message };
  if (isKubeError(error, 'gone')) return { reason: '410-gone', error: describeKubeError(error) };
  // client-node ends a watch that received no bytes for 30 s; quiet watches (nodes) hit this routinely.
  if (error instanceof Error && error.name === 'TimeoutError') return { reason: 'closed', error: 'idle timeout (no bytes for 30 s)' };
  return { reason: 'error', error: describeKubeError(error) };
}

function isFatal(error: unknown, kinds: readonly KubeErrorKind[]): boolean {
  return error instanceof KubeApiError && kinds.includes(error.kind);
}
