import path from 'node:path';
import { renderJson, renderYaml } from '../report/serialize.js';
import { renderTable } from '../report/table.js';
import type { Trace } from '../trace/types.js';
import { writeFileAtomic } from './atomic-write.js';
import type { OutputStream } from './context.js';
import type { OutputFormat } from './parse/formats.js';

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: OutputStream, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

export function renderTrace(trace: Trace, format: OutputFormat, stream: OutputStream, env: Readonly<Record<string, string | undefined>>): string {
  switch (format) {
    case 'json':
      return renderJson(trace);
    case 'yaml':
      return renderYaml(trace);
    case 'table':
      return renderTable(trace, { color: useColor(stream, env), width: stream.columns ?? 100 });
  }
}

export function printTrace(trace: Trace, format: OutputFormat, stdout: OutputStream, env: Readonly<Record<string, string | undefined>>): void {
  const text = renderTrace(trace, format, stdout, env);
  stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** The trace file is always JSON, whatever was printed. */
export async function saveTrace(trace: Trace, file: string): Promise<void> {
  const json = renderJson(trace);
  await writeFileAtomic(file, json.endsWith('\n') ? json : `${json}\n`);
}

export function defaultTracePath(cwd: string, podName: string, startedAt: number): string {
  const stamp = new Date(startedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return path.join(cwd, 'traces', `${podName}-${stamp}.json`);
}

export function defaultRunSetPath(cwd: string, podName: string, startedAt: number): string {
  return defaultTracePath(cwd, podName, startedAt).replace(/\.json$/, '.runset.json');
}

export function displayPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
