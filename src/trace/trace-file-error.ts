import { EXIT } from '../exit-codes.js';

/**
 * A recording or trace file podtrace cannot use. The message is one line
 * saying where and what is wrong; the top-level handler prints it and exits
 * with EXIT.badTraceFile.
 */
export class TraceFileError extends Error {
  readonly exitCode = EXIT.badTraceFile;
  /** 1-based line, when the problem is on one line. */
  readonly line: number | undefined;

  constructor(message: string, line?: number) {
    super(message);
    this.name = 'TraceFileError';
    this.line = line;
  }
}
