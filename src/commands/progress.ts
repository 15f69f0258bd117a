import type { Progress } from '../collect/progress-sink.js';
import type { Milestone, Trace } from '../trace/types.js';
import type { OutputStream } from './context.js';


/**
 * Live progress on stderr (the collectors' Progress): a spinner naming the
 * step in progress, replaced by one line per milestone as it completes. Off
 * (silent) unless stderr is a TTY and the output is for people.
 */
interface Spinner {
  text: string;
  start(text?: string): Spinner;
  stop(): Spinner;
  clear(): Spinner;
  render(): Spinner;
  isSpinning: boolean;
}

export async function createProgress(stderr: OutputStream, enabled: boolean): Promise<Progress> {
  if (!enabled) return new SilentProgress(stderr);
  const { default: ora } = await import('ora');
  const spinner = ora({
    stream: withColumns(stderr) as NodeJS.WritableStream,
    // Interactivity was decided by the caller; ora's own check would print plain lines instead on CI terminals.
    isEnabled: true,
    // Raw-mode stdin would turn Ctrl-C into a re-emitted event; keep the terminal's own SIGINT.
    discardStdin: false,
  }) as unknown as Spinner;
  return new SpinnerProgress(stderr, spinner);
}

/**
 * A terminal that reports 0 columns (a pty nobody sized: `script`, `docker run
 * -t` under CI) would make ora count every line as infinitely tall and clear
 * without end: give it 80 columns then, as ora does when the width is unknown.
 */
function withColumns(stream: OutputStream): OutputStream {
  return new Proxy(stream, {
    get(target, key) {
      if (key === 'columns') return target.columns || 80;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

class SilentProgress implements Progress {
  readonly enabled = false;
  constructor(private readonly stderr: OutputStream) {}
  step(): void {}
  update(): void {}
  note(line: string): void {
    this.stderr.write(`${line}\n`);
  }
  stop(): void {}
}

/**
 * Live lines show the time since the run started: the POST (t0 of the final
 * table) does not exist yet when the first steps finish, and one monotonic
 * clock reads better while watching.
 */
export function milestoneLine(milestone: Milestone, runStartedAt: number): string {
  const elapsed = `${((milestone.at - runStartedAt) / 1000).toFixed(3)}s`;
  const detail = milestone.detail ? `  ${milestone.detail}` : '';
  return `${elapsed.padStart(8)}  ${milestone.label}${detail}`;
}

class SpinnerProgress implements Progress {
  readonly enabled = true;
  readonly #printed = new Set<string>();

  constructor(
    private readonly stderr: OutputStream,
    private readonly spinner: Spinner,
  ) {}

  step(text: string): void {
    if (this.spinner.isSpinning) this.spinner.text = text;
    else this.spinner.start(text);
  }

  update(trace: Trace, nextStep?: string): void {
    const fresh = trace.milestones.filter((m) => !this.#printed.has(m.id)).sort((a, b) => a.at - b.at);
    if (fresh.length > 0) {
      this.spinner.clear();
      for (const milestone of fresh) {
        this.#printed.add(milestone.id);
        this.stderr.write(`✔ ${milestoneLine(milestone, trace.run.startedAt)}\n`);
      }
      this.spinner.render();
    }
    if (nextStep) this.step(nextStep);
  }

  note(line: string): void {
    this.spinner.clear();
    this.stderr.write(`${line}\n`);
    if (this.spinner.isSpinning) this.spinner.render();
  }

  stop(): void {
    this.spinner.stop();
  }
}
