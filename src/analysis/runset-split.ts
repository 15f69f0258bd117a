/**
 * Splits a run set's JSON text, fed a piece at a time, into the text of each run (each element of
 * the top-level "runs" array) and the rest (the run set without its runs, "runs": [] in their
 * place). A run set of 10,000 runs is a few hundred megabytes of text: read this way, only one run
 * is ever held as text, and each is parsed alone. It tracks strings, escapes and nesting only; it
 * does not check that the text is JSON (JSON.parse of each piece does).
 */
export class RunSetSplitter {
  /** Nesting depth: 0 outside the top-level value, 1 inside its object, 2 inside an array there... */
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** The last string at depth 1 (a key, when a ':' follows it). */
  #string = '';
  #stringStart = -1;
  #awaitingValueOf: string | undefined;
  /** Inside the top-level "runs" array. */
  #inRuns = false;
  /** The run being read (its text so far), when one is. */
  #run: string[] | undefined;
  readonly #skeleton: string[] = [];

  /** Feeds the next piece of text; returns the text of each run completed in it, in order. */
  push(text: string): string[] {
    const runs: string[] = [];
    let keepFrom = 0; // start of the part of `text` not yet given to the skeleton or the run
    const flush = (to: number): void => {
      if (to <= keepFrom) return;
      if (this.#run) this.#run.push(text.slice(keepFrom, to));
      else this.#skeleton.push(text.slice(keepFrom, to));
      keepFrom = to;
    };
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === 0x5c) this.#escaped = true; // backslash
        else if (c === 0x22) {
          this.#inString = false;
          if (this.#depth === 1 && !this.#inRuns && this.#stringStart >= 0) this.#string += text.slice(this.#stringStart, i);
          this.#stringStart = -1;
        }
        continue;
      }
      if (c === 0x22) {
        this.#inString = true;
        if (this.#depth === 1 && !this.#inRuns) {
          this.#string = '';
          this.#stringStart = i + 1;
        }
        if (this.#inRuns && this.#depth === 2 && !this.#run) throw new SyntaxError('a run that is not a JSON object');
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (this.#depth === 1 && !this.#inRuns) {
        if (c === 0x3a) {
          // ':' after a key at the top level
          this.#awaitingValueOf = this.#string;
          continue;
        }
        if (c === 0x5b && this.#awaitingValueOf === 'runs') {
          // '[' of "runs": its elements are the runs; the skeleton keeps the brackets only
          this.#depth += 1;
          this.#inRuns = true;
          this.#awaitingValueOf = undefined;
          continue;
        }
        if (c !== 0x2c) this.#awaitingValueOf = undefined;
      }
      if (this.#inRuns && this.#depth === 2 && !this.#run) {
        if (c === 0x2c) {
          // the comma between runs: not part of either, nor of the skeleton
          flush(i);
          keepFrom = i + 1;
          continue;
        }
        if (c === 0x5d) {
          // ']' ends "runs"
          this.#inRuns = false;
          this.#depth -= 1;
          continue;
        }
        if (c !== 0x7b) throw new SyntaxError('a run that is not a JSON object');
        flush(i);
        this.#run = [];
      }
      if (c === 0x7b || c === 0x5b) this.#depth += 1;
      else if (c === 0x7d || c === 0x5d) {
        this.#depth -= 1;
        if (this.#run && this.#depth === 2) {
          // the run's closing brace
          this.#run.push(text.slice(keepFrom, i + 1));
          keepFrom = i + 1;
          runs.push(this.#run.join(''));
          this.#run = undefined;
        }
      }
    }
    // a key cut between two pieces: keep what there is of it
    if (this.#inString && this.#stringStart >= 0) {
      this.#string += text.slice(this.#stringStart);
      this.#stringStart = 0;
    }
    flush(text.length);
    return runs;
  }

  /** The run set without its runs ("runs": []), once the whole text was fed. */
  skeleton(): string {
    return this.#skeleton.join('');
  }
}
