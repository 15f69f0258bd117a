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
 * order. Only where each run is in the file is kept, not its text: memory
 * follows the runs in flight, not the runs written; the text is read back
 * from the file for stdout.
 */
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { renderRunSetYamlHead, renderRunYamlItem } from '../report/runset-summary.js';
import { orderedTrace } from '../report/serialize.js';
import type { RunSet } from '../analysis/runset.js';
import type { Trace } from '../trace/types.js';
import { fileWriteError, tempPathFor } from './atomic-write.js';

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
const SEPARATOR = ',\n';

/** How much is appended between two background flushes to disk. */
export const SYNC_EVERY_BYTES = 8 * 2 ** 20;

/** Where a text goes: stdout, in the commands. */
export interface TextOut {
  write(text: string): unknown;
}

export class RunSetWriter {
  readonly #target: string;
  readonly #temp: string;
  readonly #head: RunSetHead;
  /**
   * Where each element is in the file (its first byte, and its length in bytes): what is kept of
   * a run once it is written. The text itself is read back from the file when it is wanted again.
   */
  #offsets: number[] = [];
  #lengths: number[] = [];
  /** Bytes appended so far (head and separators included). */
  #bytes = 0;
  /** Runs replaced after they were appended (a late event): rare, and only those are kept. */
  readonly #replaced = new Map<number, string>();
  #handle: Promise<FileHandle> | undefined;
  /** Writes run one after another, in the order they were asked for. */
  #queue: Promise<void> = Promise.resolve();
  #error: unknown;
  #finished = false;
  readonly #syncEvery: number;
  /** Bytes appended since the last flush. */
  #unsynced = 0;

  constructor(target: string, head: RunSetHead, options: { syncEveryBytes?: number } = {}) {
    this.#target = path.resolve(target);
    this.#temp = tempPathFor(this.#target);
    this.#head = head;
    this.#syncEvery = options.syncEveryBytes ?? SYNC_EVERY_BYTES;
  }

  /** How many runs were appended. */
  get count(): number {
    return this.#offsets.length;
  }

  /** Appends a rendered run (renderRunElement); the temp file is made at the first one. Returns its index. */
  append(element: string): number {
    const prefix = this.#offsets.length === 0 ? renderHead(this.#head) : SEPARATOR;
    const prefixBytes = Buffer.byteLength(prefix);
    const elementBytes = Buffer.byteLength(element);
    this.#offsets.push(this.#bytes + prefixBytes);
    this.#lengths.push(elementBytes);
    this.#bytes += prefixBytes + elementBytes;
    this.#unsynced += prefixBytes + elementBytes;
    const flush = this.#unsynced >= this.#syncEvery;
    if (flush) this.#unsynced = 0;
    const text = prefix + element;
    this.#enqueue(async (handle) => {
      await handle.write(text);
      if (flush) await handle.datasync();
    });
    return this.#offsets.length - 1;
  }

  /**
   * A run changed after it was appended (a late event): its new rendering is kept, and finish()
   * writes the file again, the other runs copied from the file as they were written.
   */
  replace(index: number, element: string): void {
    if (index < 0 || index >= this.#offsets.length) throw new RangeError(`no run ${index} in the run set`);
    this.#replaced.set(index, element);
  }

  /** Closes the array, syncs and renames the temp file over the target. */
  async finish(): Promise<void> {
    if (this.#offsets.length === 0) throw new Error('a run set with no runs is never written');
    this.#enqueue(async (handle) => {
      await handle.write(TAIL);
      await handle.sync();
    });
    await this.#queue;
    await this.#close();
    let from = this.#temp;
    try {
      if (this.#error !== undefined) throw this.#error;
      if (this.#replaced.size > 0) from = await this.#rewrite();
      await rename(from, this.#target);
      this.#finished = true;
    } catch (error) {
      await rm(this.#temp, { force: true }).catch(() => {});
      if (from !== this.#temp) await rm(from, { force: true }).catch(() => {});
      throw fileWriteError(this.#target, error);
    }
  }

  /** Drops the temp file: nothing is left behind. */
  async abort(): Promise<void> {
    await this.#queue;
    await this.#close();
    await rm(this.#temp, { force: true }).catch(() => {});
  }

  /** Once finished: the run set's text, as the file holds it, to `out`, a piece at a time. */
  async copyTo(out: TextOut, pieceBytes = 1 << 20): Promise<void> {
    this.#mustBeFinished();
    const handle = await open(this.#target, 'r');
    try {
      const decoder = new StringDecoder('utf8');
      const buffer = Buffer.alloc(pieceBytes);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        out.write(decoder.write(buffer.subarray(0, bytesRead)));
      }
      const rest = decoder.end();
      if (rest) out.write(rest);
    } finally {
      await handle.close();
    }
  }

  /** Once finished: each run's element text, in order, read back from the file one at a time. */
  async *elements(): AsyncGenerator<string> {
    this.#mustBeFinished();
    const handle = await open(this.#target, 'r');
    try {
      for (let i = 0; i < this.#offsets.length; i++) yield await readRange(handle, this.#offsets[i]!, this.#lengths[i]!);
    } finally {
      await handle.close();
    }
  }

  #mustBeFinished(): void {
    if (!this.#finished) throw new Error('the run set is read back only once finish() has written it');
  }

  /** The file again, with the replaced runs: written beside the target; its path. */
  async #rewrite(): Promise<string> {
    const next = tempPathFor(this.#target);
    const source = await open(this.#temp, 'r');
    const offsets: number[] = [];
    const lengths: number[] = [];
    try {
      const out = await open(next, 'wx', 0o644);
      try {
        let at = 0;
        const put = async (bytes: Buffer | string): Promise<void> => {
          const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
          await out.write(buffer);
          at += buffer.length;
        };
        for (let i = 0; i < this.#offsets.length; i++) {
          await put(i === 0 ? renderHead(this.#head) : SEPARATOR);
          const replaced = this.#replaced.get(i);
          const bytes = replaced !== undefined ? Buffer.from(replaced) : Buffer.from(await readRange(source, this.#offsets[i]!, this.#lengths[i]!));
          offsets.push(at);
          lengths.push(bytes.length);
          await put(bytes);
        }
        await put(TAIL);
        await out.sync();
      } finally {
        await out.close();
      }
    } catch (error) {
      await rm(next, { force: true }).catch(() => {});
      throw error;
    } finally {
      await source.close();
    }
    await rm(this.#temp, { force: true }).catch(() => {});
    this.#offsets = offsets;
    this.#lengths = lengths;
    this.#replaced.clear();
    return next;
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

async function readRange(handle: FileHandle, offset: number, length: number): Promise<string> {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await handle.read(buffer, read, length - read, offset + read);
    if (bytesRead === 0) throw new Error(`the run set file ended at byte ${offset + read}, inside a run`);
    read += bytesRead;
  }
  return buffer.toString('utf8');
}

/** The run set as YAML to `out`, from its runs' JSON elements (RunSetWriter.elements()), one at a time. */
export async function writeRunSetYaml(out: TextOut, head: RunSetHead, elements: AsyncIterable<string>): Promise<void> {
  out.write(renderRunSetYamlHead(head));
  for await (const element of elements) out.write(renderRunYamlItem(JSON.parse(element)));
}

