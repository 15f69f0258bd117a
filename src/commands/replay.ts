import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TraceFileError } from '../trace/trace-file-error.js';
import { EXIT } from '../exit-codes.js';
import { parseRecording } from '../trace/recording.js';
import { reconstruct } from '../trace/reconstruct.js';
import type { CommandContext } from './context.js';
import { printTrace, saveTrace } from './output.js';
import { parseOutputFormat } from './parse/flags.js';

export interface ReplayFlags {
  file: string;
  output: string;
  out?: string;
}

/**
 * Rebuilds the trace from a recording, offline. The exit code is the recorded
 * run's outcome code, so a replay stands in for the run it recorded.
 */
export async function run(flags: ReplayFlags, ctx: CommandContext): Promise<number> {
  const format = parseOutputFormat(flags.output);
  const cwd = ctx.cwd ?? process.cwd();
  const file = path.resolve(cwd, flags.file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new TraceFileError(`cannot read recording ${flags.file}: ${why}`);
  }
  let recording: ReturnType<typeof parseRecording>;
  try {
    recording = parseRecording(text);
  } catch (error) {
    if (error instanceof TraceFileError) throw new TraceFileError(`${flags.file}: ${error.message}`, error.line);
    throw error;
  }
  const trace = reconstruct(recording.header, recording.observations);
  printTrace(trace, format, ctx.stdout, ctx.env);
  if (flags.out !== undefined) {
    const out = path.resolve(cwd, flags.out);
    await saveTrace(trace, out);
    ctx.stderr.write(`trace saved to ${flags.out}\n`);
  }
  return trace.outcome.exitCode ?? EXIT.ok;
}
