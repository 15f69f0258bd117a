import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/commands/atomic-write.js';
import { FileWriteError } from '../../../src/errors.js';

const dir = (): string => mkdtempSync(path.join(tmpdir(), 'podtrace-atomic-'));

describe('writeFileAtomic', () => {
  it('writes the file, creating parent directories, leaving no temp file', async () => {
    const root = dir();
    const file = path.join(root, 'traces', 'deep', 'trace.json');
    await writeFileAtomic(file, '{"a":1}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n');
    expect(readdirSync(path.dirname(file))).toEqual(['trace.json']);
  });

  it('replaces an existing file whole', async () => {
    const root = dir();
    const file = path.join(root, 'trace.json');
    writeFileSync(file, 'old content that is longer than the new one');
    await writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(root)).toEqual(['trace.json']);
  });

  it('fails with a FileWriteError (one line, exit 8) and cleans up', async () => {
    const root = dir();
    const target = path.join(root, 'is-a-dir');
    mkdirSync(target);
    const error = await writeFileAtomic(target, 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileWriteError);
    expect((error as FileWriteError).exitCode).toBe(8);
    expect((error as Error).message).toMatch(/cannot write .*is-a-dir/);
    expect(readdirSync(root)).toEqual(['is-a-dir']);
  });

  it('reports a parent that is a file', async () => {
    const root = dir();
    writeFileSync(path.join(root, 'file'), '');
    const error = await writeFileAtomic(path.join(root, 'file', 'trace.json'), 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileWriteError);
    expect((error as Error).message).not.toContain('\n');
  });

  it('reports a directory it may not write into', async () => {
    // root ignores permission bits, so as root use a file system that refuses everyone
    const target = process.getuid?.() === 0 ? '/sys/podtrace-test/trace.json' : path.join(dir(), 'ro', 'trace.json');
    if (process.getuid?.() !== 0) {
      mkdirSync(path.dirname(target));
      chmodSync(path.dirname(target), 0o500);
    }
    const error = await writeFileAtomic(target, 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileWriteError);
    expect((error as Error).message).toMatch(/permission denied|no such file|not permitted/i);
    expect((error as Error).message).not.toContain('\n');
  });
});
