import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { FileWriteError } from '../errors.js';

/**
 * Writes `content` to `file` so that readers see either the old file or the
 * complete new one, never a torn write: a temp file in the same directory
 * (same filesystem, so rename is atomic), fsync, then rename over the target.
 * Missing parent directories are created.
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const temp = tempPathFor(target);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw fileWriteError(file, error);
  }
}

/**
 * writeFileAtomic a piece at a time, for a file too big to hold as one string (the html report of
 * 10,000 runs): the pieces go to the temp file as they come; commit() syncs and renames it over
 * the target, abort() removes it. Errors are FileWriteErrors naming `file` as typed.
 */
export class AtomicFileWriter {
  readonly #file: string;
  readonly #target: string;
  readonly #temp: string;
  #fd: number | undefined;

  constructor(file: string) {
    this.#file = file;
    this.#target = path.resolve(file);
    this.#temp = tempPathFor(this.#target);
  }

  write(text: string): void {
    try {
      if (this.#fd === undefined) {
        mkdirSync(path.dirname(this.#target), { recursive: true });
        this.#fd = openSync(this.#temp, 'wx', 0o644);
      }
      writeSync(this.#fd, text);
    } catch (error) {
      this.abort();
      throw fileWriteError(this.#file, error);
    }
  }

  commit(): void {
    try {
      if (this.#fd === undefined) this.write('');
      fsyncSync(this.#fd!);
      closeSync(this.#fd!);
      this.#fd = undefined;
      renameSync(this.#temp, this.#target);
    } catch (error) {
      this.abort();
      throw fileWriteError(this.#file, error);
    }
  }

  abort(): void {
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {
        // closed already
      }
      this.#fd = undefined;
    }
    rmSync(this.#temp, { force: true });
  }
}

/** A hidden temp file beside `target` (same filesystem, so a rename over it is atomic), unique to this write. */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** The one-line error for a file that could not be written, saying what to do. */
export function fileWriteError(file: string, error: unknown): FileWriteError {
  const code = (error as NodeJS.ErrnoException).code;
  return new FileWriteError(
    `cannot write ${file}: ${describeFsError(code, error)}; choose another path (--out / --record) or fix the directory's permissions`,
    { cause: error },
  );
}

function describeFsError(code: string | undefined, error: unknown): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a parent path is not a directory';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
