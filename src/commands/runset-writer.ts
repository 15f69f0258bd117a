/**
 * A run set written while its runs finish: `podtrace watch` over thousands of
 * pods appends each pod's trace as soon as it is final, so that the end of
 * the watch has only the last traces, the closing bracket and an fsync left
 * to do, not 100 MB to render and write at once.
 *
 * The file is a temp file beside the target until finish() renames it over
 * the target: readers never see half a run set, and abort() leaves nothing.
 * Written bytes are flushed to disk every SYNC_EVERY_BYTES as the file grows,
 * so the fsync at the end has only the last of them to wait for (on the disk
 * etcd writes to, a single fsync of 100 MB took seconds).
 * The bytes are those of renderRunSetJson() for the same runs in the same
 * order.
 */
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { orderedTrace } from '../report/serialize.js';
import type { RunSet } from '../analysis/runset.js';
import type { Trace } from '../trace/types.js';
import { fileWriteError, tempPathFor, writeFileAtomic } from './atomic-write.js';

type RunSetHead = Omit<RunSet, 'runs'>;

/** One trace as an element of the run set's "runs" array (two levels of 2-space indent). */
export function renderRunElement(trace: Trace): string {
  return `    ${JSON.stringify(orderedTrace(trace), null, 2).replaceAll('\n', '\n    ')}`;
}

function renderHead(head: RunSetHead): string {
  const { kind, schemaVersion, tool, toolVersion, label, createdAt } = head;
  const json = JSON.stringify({ kind, schemaVersion, tool, toolVersion, label, createdAt }, null, 2);
  return `${json.slice(0, -2)},\n  "runs": [\n`;
}

const TAIL = '\n  ]\n}\n';

/** How much is appended between two background flushes to disk. */
export const SYNC_EVERY_BYTES = 8 * 2 ** 20;

export class RunSetWriter {
  readonly #target: string;
  readonly #temp: string;
  readonly #head: RunSetHead;
  /** Every element written (or to write), in file order: stdout may want the whole text. */
  readonly #elements: string[] = [];
  #handle: Promise<FileHandle> | undefined;
  /** Writes run one after another, in the order they were asked for. */
  #queue: Promise<void> = Promise.resolve();
  #error: unknown;
  /** A run already written was replaced: finish() writes the whole file again. */
  #replaced = false;
  #text: string | undefined;
  readonly #syncEvery: number;
  /** Characters appended since the last flush (ASCII for the most part: close to bytes). */
  #unsynced = 0;

  constructor(target: string, head: RunSetHead, options: { syncEveryBytes?: number } = {}) {
    this.#target = path.resolve(target);
    this.#temp = tempPathFor(this.#target);
    this.#head = head;
    this.#syncEvery = options.syncEveryBytes ?? SYNC_EVERY_BYTES;
  }

  /** Appends a rendered run (renderRunElement); the temp file is made at the first one. Returns its index. */
  append(element: string): number {
    const first = this.#elements.length === 0;
    this.#elements.push(element);
    this.#text = undefined;
    const text = first ? renderHead(this.#head) + element : `,\n${element}`;
    this.#unsynced += text.length;
    const flush = this.#unsynced >= this.#syncEvery;
    if (flush) this.#unsynced = 0;
    this.#enqueue(async (handle) => {
      await handle.write(text);
      if (flush) await handle.datasync();
    });
    return this.#elements.length - 1;
  }

  /**
   * A run changed after it was appended (a late event): its new rendering
   * replaces the old, and finish() writes the file again from the elements,
   * the others as they were rendered.
   */
  replace(index: number, element: string): void {
    if (this.#elements[index] === element) return;
    this.#elements[index] = element;
    this.#text = undefined;
    this.#replaced = true;
  }

  /** The whole run set as text, as the file holds it once finished. */
  text(): string {
    this.#text ??= `${renderHead(this.#head)}${this.#elements.join(',\n')}${TAIL}`;
    return this.#text;
  }

  /** Closes the array, syncs and renames the temp file over the target. */
  async finish(): Promise<void> {
    if (this.#elements.length === 0) throw new Error('a run set with no runs is never written');
    if (this.#replaced) {
      await this.abort();
      await writeFileAtomic(this.#target, this.text());
      return;
    }
    this.#enqueue(async (handle) => {
      await handle.write(TAIL);
      await handle.sync();
    });
    await this.#queue;
    await this.#close();
    if (this.#error !== undefined) {
      await rm(this.#temp, { force: true }).catch(() => {});
      throw fileWriteError(this.#target, this.#error);
    }
    try {
      await rename(this.#temp, this.#target);
    } catch (error) {
      await rm(this.#temp, { force: true }).catch(() => {});
      throw fileWriteError(this.#target, error);
    }
  }

  /** Drops the temp file: nothing is left behind. */
  async abort(): Promise<void> {
    await this.#queue;
    await this.#close();
    await rm(this.#temp, { force: true }).catch(() => {});
  }

  #enqueue(write: (handle: FileHandle) => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#error !== undefined) return;
      try {
        this.#handle ??= mkdir(path.dirname(this.#target), { recursive: true }).then(() => open(this.#temp, 'wx', 0o644));
        await write(await this.#handle);
      } catch (error) {
        this.#error = error;
      }
    });
  }

  async #close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await (await handle.catch(() => undefined))?.close().catch(() => {});
  }
}
