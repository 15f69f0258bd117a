import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TraceFileError } from '../trace/trace-file-error.js';
import { EXIT } from '../exit-codes.js';
import { parseRecording } from '../trace/recording.js';
import { reconstruct } from '../trace/reconstruct.js';
import type { CommandContext } from './context.js';
import { printTrace, saveTrace } from './output.js';
import type { ReplayOptions } from './option-tables.js';

/**
 * Rebuilds the trace from a recording, offline. The exit code is the recorded
 * run's outcome code, so a replay stands in for the run it recorded.
 */
export async function run(recordingFile: string, options: ReplayOptions, ctx: CommandContext): Promise<number> {
  const cwd = ctx.cwd ?? process.cwd();
  const file = path.resolve(cwd, recordingFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new TraceFileError(`cannot read recording ${recordingFile}: ${why}`);
  }
  let recording: ReturnType<typeof parseRecording>;
  try {
    recording = parseRecording(text);
  } catch (error) {
    if (error instanceof TraceFileError) throw new TraceFileError(`${recordingFile}: ${error.message}`, error.line);
    throw error;
  }
  const trace = reconstruct(recording.header, recording.observations);
  printTrace(trace, options.output, ctx.stdout, ctx.env);
  if (options.out !== undefined) {
    const out = path.resolve(cwd, options.out);
    await saveTrace(trace, out);
    ctx.stderr.write(`trace saved to ${options.out}\n`);
  }
  return trace.outcome.exitCode ?? EXIT.ok;
}
