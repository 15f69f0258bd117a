/**
 * The command line: commander wired to the option tables (commands/option-tables.ts),
 * and main(), the one place where anything thrown becomes a message and an
 * exit code. Commands are imported when run, so `--help` never loads the
 * Kubernetes client.
 */
import { Command, CommanderError, Option } from 'commander';
import type { CommandContext } from './commands/context.js';
import type { CreateInput } from './commands/create-plan.js';
import { readOptions, type AnyOption, type OptionTable } from './commands/options.js';
import {
  CREATE_OPTIONS,
  DEBUG,
  DIFF_OPTIONS,
  DOCTOR_OPTIONS,
  INSPECT_OPTIONS,
  REPLAY_OPTIONS,
  REPORT_OPTIONS,
  WATCH_OPTIONS,
  type DiffOptions,
  type DoctorOptions,
  type InspectOptions,
  type ReplayOptions,
  type ReportOptions,
  type WatchOptions,
} from './commands/option-tables.js';
import { TOOL_VERSION } from './commands/version.js';
import { CREATE_HELP, DIFF_HELP, INSPECT_HELP, REPORT_HELP, WATCH_HELP } from './commands/help.js';
import { DOCTOR_HELP, PROBE_HELP } from './commands/help.js';
import { systemClock } from './collect/observation-log.js';
import { PROBE_OPTIONS } from './commands/probe-options.js';
import type { ProbeInput } from './commands/probe.js';
import { completionScript, parseShell, SHELLS, type CommandSpec, type FlagSpec, type Shell } from './commands/completion.js';
import { describeFailure, UsageError } from './errors.js';
import { EXIT } from './exit-codes.js';

export { TOOL_VERSION };

export type Invocation =
  | { command: 'create'; input: CreateInput; debug: boolean }
  | { command: 'replay'; file: string; options: ReplayOptions; debug: boolean }
  | { command: 'inspect'; pod: string; options: InspectOptions; debug: boolean }
  | { command: 'watch'; options: WatchOptions; debug: boolean }
  | { command: 'diff'; files: { a: string; b: string }; options: DiffOptions; debug: boolean }
  | { command: 'report'; files: string[]; options: ReportOptions; debug: boolean }
  | { command: 'doctor'; options: DoctorOptions; debug: boolean }
  | { command: 'completion'; shell: Shell; debug: boolean }
  | { command: 'probe'; input: ProbeInput; debug: boolean }
  /** Help or version was printed; nothing to run. */
  | { command: 'none'; exitCode: number };

export type CliContext = Omit<CommandContext, 'clock'> & { clock?: CommandContext['clock'] };

export interface CLI {
  program: Command;
  /** Parses argv (without node and script) into what would run, running nothing. Throws UsageError. */
  parse(argv: readonly string[]): Invocation;
  /** Parses and runs; resolves to the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** Each command's option specs as registered: what the completion scripts are made from. */
const REGISTERED = new WeakMap<Command, AnyOption[]>();

function addOptions<T>(command: Command, table: OptionTable<T> | Record<string, AnyOption>): Command {
  REGISTERED.set(command, [...(REGISTERED.get(command) ?? []), ...(Object.values(table) as AnyOption[])]);
  for (const spec of Object.values(table) as AnyOption[]) {
    const option = new Option(spec.flags, spec.description);
    if (spec.kind === 'value' && spec.default !== undefined) option.default(spec.default);
    if (spec.kind === 'list') option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    // Choices are listed in the help; validation (case-insensitive, with a hint) is the parser's job.
    if (spec.kind === 'value' && spec.choices) option.description = `${spec.description} (${spec.choices.join('|')})`;
    command.addOption(option);
  }
  return command;
}

function noTrailingArgs(command: string, trailingArgs: readonly string[]): void {
  if (trailingArgs.length > 0) throw new UsageError(`${command} takes no arguments after --`);
}

export function createCLI(context: CliContext): CLI {
  const ctx: CommandContext = { ...context, clock: context.clock ?? systemClock };
  let invocation: Invocation | undefined;
  let trailingArgs: string[] = [];

  const program = new Command('podtrace')
    .description('Create a real Kubernetes pod and time every step from the request to Ready.')
    .version(TOOL_VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
      // Errors become UsageError and are printed once, by main().
      outputError: () => {},
      getOutHelpWidth: () => ctx.stdout.columns ?? 100,
      getErrHelpWidth: () => ctx.stderr.columns ?? 100,
    })
    .exitOverride();
  addOptions(program, { debug: DEBUG });

  /** A command that takes IMAGE (or -f) and the words after --: create, probe. */
  function imageCommand<T extends { debug: boolean }>(name: string, description: string, table: OptionTable<T>, help: string, invoke: (input: { image?: string; args: string[]; options: T }) => Invocation): Command {
    const command = addOptions(program.command(name).description(description).argument('[image]', 'container image, e.g. nginx or registry.local:5000/app:1.2 (or -f pod.yaml)'), table).addHelpText('after', help);
    command.action((image: string | undefined, values: Record<string, unknown>) => {
      invocation = invoke({ ...(image !== undefined ? { image } : {}), args: trailingArgs, options: readOptions(table, values) });
    });
    return command;
  }

  const create = imageCommand('create', 'create a pod, watch it become Ready (or fail), delete it, and print the timed trace', CREATE_OPTIONS, CREATE_HELP, (input) => ({
    command: 'create',
    input,
    debug: input.options.debug,
  }));

  const replay = addOptions(
    program
      .command('replay')
      .description('rebuild and print the trace from a recording (--record), offline')
      .argument('<recording>', 'NDJSON recording written by podtrace create --record'),
    REPLAY_OPTIONS,
  );
  replay.action((file: string, values: Record<string, unknown>) => {
    noTrailingArgs('replay', trailingArgs);
    const options = readOptions(REPLAY_OPTIONS, values);
    invocation = { command: 'replay', file, options, debug: options.debug };
  });

  const inspect = addOptions(
    program
      .command('inspect')
      .description('rebuild the best trace possible for an existing pod podtrace did not create (from its status and the events left)')
      .argument('<pod>', 'pod name'),
    INSPECT_OPTIONS,
  ).addHelpText('after', INSPECT_HELP);
  inspect.action((pod: string, values: Record<string, unknown>) => {
    noTrailingArgs('inspect', trailingArgs);
    const options = readOptions(INSPECT_OPTIONS, values);
    invocation = { command: 'inspect', pod, options, debug: options.debug };
  });

  const watchCommand = addOptions(
    program.command('watch').description('trace every pod that appears matching a label selector (a rollout, a Job): one trace each, saved as a run set'),
    WATCH_OPTIONS,
  ).addHelpText('after', WATCH_HELP);
  watchCommand.action((values: Record<string, unknown>) => {
    noTrailingArgs('watch', trailingArgs);
    const options = readOptions(WATCH_OPTIONS, values);
    if (options.selector === undefined) throw new UsageError('podtrace watch needs -l SELECTOR (e.g. -l app=web)');
    invocation = { command: 'watch', options, debug: options.debug };
  });

  const report = addOptions(
    program
      .command('report')
      .description('summarize traces and run sets: per-metric quantiles, waterfalls, exports (html, csv, markdown, chrome-trace, otlp)')
      .argument('<files...>', 'trace files (-o json / --out of create) or run sets (create --runs N); each file is one set'),
    REPORT_OPTIONS,
  ).addHelpText('after', REPORT_HELP);
  report.action((files: string[], values: Record<string, unknown>) => {
    noTrailingArgs('report', trailingArgs);
    const options = readOptions(REPORT_OPTIONS, values);
    invocation = { command: 'report', files, options, debug: options.debug };
  });

  const diffCommand = addOptions(
    program
      .command('diff')
      .description('compare two traces or run sets metric by metric: deltas, bootstrap intervals, regressions, what else differs')
      .argument('<a>', 'baseline: a trace file (create -o json / --out) or a run set (create --runs N)')
      .argument('<b>', 'candidate, compared against <a>'),
    DIFF_OPTIONS,
  ).addHelpText('after', DIFF_HELP);
  diffCommand.action((a: string, b: string, values: Record<string, unknown>) => {
    noTrailingArgs('diff', trailingArgs);
    const options = readOptions(DIFF_OPTIONS, values);
    invocation = { command: 'diff', files: { a, b }, options, debug: options.debug };
  });

  const doctor = addOptions(
    program.command('doctor').description('check what the cluster offers podtrace (spans, events, metrics, access), the precision each step will get, and what would improve it'),
    DOCTOR_OPTIONS,
  ).addHelpText('after', DOCTOR_HELP);
  doctor.action((values: Record<string, unknown>) => {
    noTrailingArgs('doctor', trailingArgs);
    const options = readOptions(DOCTOR_OPTIONS, values);
    invocation = { command: 'doctor', options, debug: options.debug };
  });

  const probe = imageCommand(
    'probe',
    'create, trace and delete the pod every --every, and serve the times as OpenMetrics (a synthetic check of pod start-up)',
    PROBE_OPTIONS,
    PROBE_HELP,
    (input) => ({ command: 'probe', input, debug: input.options.debug }),
  );

  const completion = addOptions(
    program
      .command('completion')
      .description('print a shell completion script: podtrace completion bash > /etc/bash_completion.d/podtrace (also zsh, fish)')
      .argument('<shell>', SHELLS.join(', ')),
    { debug: DEBUG },
  );
  completion.action((shell: string, values: Record<string, unknown>) => {
    noTrailingArgs('completion', trailingArgs);
    invocation = { command: 'completion', shell: parseShell(shell), debug: values['debug'] === true };
  });

  for (const command of [create, replay, inspect, watchCommand, report, diffCommand, doctor, probe, completion]) {
    command.configureOutput(program.configureOutput()).exitOverride().showSuggestionAfterError(true);
  }

  function parse(argv: readonly string[]): Invocation {
    invocation = undefined;
    const separator = argv.indexOf('--');
    trailingArgs = separator === -1 ? [] : argv.slice(separator + 1);
    const before = separator === -1 ? [...argv] : argv.slice(0, separator);
    try {
      program.parse(before, { from: 'user' });
    } catch (error) {
      if (error instanceof CommanderError) {
        if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
          return { command: 'none', exitCode: EXIT.ok };
        }
        // `podtrace` alone prints the help on stderr: a usage error.
        if (error.code === 'commander.help') return { command: 'none', exitCode: error.exitCode === 0 ? EXIT.ok : EXIT.usage };
        if (error.code === 'commander.executeSubCommandAsync') throw error;
        const message = error.message.replace(/^error:\s*/i, '').trim();
        const where = program.commands.find((c) => before.includes(c.name()));
        throw new UsageError(`${message} (see podtrace ${where ? `${where.name()} ` : ''}--help)`);
      }
      throw error;
    }
    if (invocation === undefined) {
      ctx.stderr.write(program.helpInformation());
      return { command: 'none', exitCode: EXIT.usage };
    }
    return invocation;
  }

  async function run(argv: readonly string[]): Promise<number> {
    const parsed = parse(argv);
    const commandCtx: CommandContext = { ...ctx, debug: ctx.debug === true || ('debug' in parsed && parsed.debug) };
    switch (parsed.command) {
      case 'none':
        return parsed.exitCode;
      case 'create':
        // Loaded on demand: --help must not pay for @kubernetes/client-node.
        return (await import('./commands/create.js')).run(parsed.input, commandCtx);
      case 'replay':
        return (await import('./commands/replay.js')).run(parsed.file, parsed.options, commandCtx);
      case 'inspect':
        return (await import('./commands/inspect.js')).run(parsed.pod, parsed.options, commandCtx);
      case 'watch':
        return (await import('./commands/watch.js')).run(parsed.options, commandCtx);
      case 'diff':
        return (await import('./commands/diff.js')).run(parsed.files, parsed.options, commandCtx);
      case 'report':
        return (await import('./commands/report.js')).run(parsed.files, parsed.options, commandCtx);
      case 'doctor':
        return (await import('./commands/doctor.js')).run(parsed.options, commandCtx);
      case 'probe':
        return (await import('./commands/probe.js')).run(parsed.input, commandCtx);
      case 'completion':
        ctx.stdout.write(completionScript(parsed.shell, completionSpecs(program)));
        return EXIT.ok;
    }
  }

  return { program, parse, run };
}

/** Each command's flags as the completion scripts need them, from the option tables it was registered with. */
function completionSpecs(program: Command): CommandSpec[] {
  const help: AnyOption = { kind: 'switch', flags: '-h, --help', description: 'display help for command' };
  return program.commands.map((command) => {
    const flags = [...(REGISTERED.get(command) ?? []), help].map((spec): FlagSpec => {
      const short = /^(-\w),/.exec(spec.flags)?.[1];
      const long = /(--[\w-]+)/.exec(spec.flags)![1]!;
      const placeholder = /<([^>]+)>/.exec(spec.flags)?.[1];
      return {
        long,
        ...(short ? { short } : {}),
        takesValue: placeholder !== undefined,
        ...(spec.kind === 'value' && spec.choices ? { choices: spec.choices } : {}),
        ...(placeholder !== undefined && /^(file|recording|kubeconfig)$/.test(placeholder) ? { file: true } : {}),
        description: spec.description,
      };
    });
    // replay, report and diff take files (a recording, traces, run sets): their arguments say so
    const fileArgs = /\b(files?|recording)\b/.test(command.registeredArguments[0]?.description ?? '');
    return { name: command.name(), description: command.description(), flags, ...(fileArgs ? { fileArgs } : {}) };
  });
}

export interface MainContext extends CliContext {
  exit?: (code: number) => void;
}

/** The one place where anything thrown becomes a message and an exit code. */
export async function main(argv: readonly string[], context?: Partial<MainContext>): Promise<number> {
  const ctx: MainContext = {
    stdout: context?.stdout ?? process.stdout,
    stderr: context?.stderr ?? process.stderr,
    env: context?.env ?? process.env,
    ...context,
  };
  const debug = argv.includes('--debug') || ctx.env['PODTRACE_DEBUG'] === '1';
  try {
    return await createCLI({ ...ctx, debug }).run(argv);
  } catch (error) {
    const failure = describeFailure(error, debug);
    ctx.stderr.write(`podtrace: ${failure.message}\n`);
    if (failure.stack) ctx.stderr.write(`${failure.stack}\n`);
    return failure.exitCode;
  }
}
