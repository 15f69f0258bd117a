import { Command, CommanderError, Option } from 'commander';
import type { CommandContext } from './commands/context.js';
import type { CreateFlags } from './commands/create-plan.js';
import type { DiffFlags } from './commands/diff.js';
import type { InspectFlags } from './commands/inspect.js';
import type { WatchFlags } from './commands/watch.js';
import type { ReplayFlags } from './commands/replay.js';
import type { ReportFlags } from './commands/report.js';
import { describeFailure, UsageError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { systemClock } from './watchers/observation-log.js';
import { TOOL_VERSION } from './commands/version.js';

export { TOOL_VERSION };

/** One option, declared as data: the help text, the parser and the tests all read this. */
interface OptionSpec {
  flags: string;
  description: string;
  default?: string;
  /** Collect every occurrence into an array. */
  repeatable?: boolean;
  choices?: readonly string[];
}

const KUBE_OPTIONS: OptionSpec[] = [
  { flags: '-n, --namespace <namespace>', description: "namespace for the pod (default: the context's namespace, else default)" },
  { flags: '--context <context>', description: 'kubeconfig context to use (default: current-context)' },
  { flags: '--kubeconfig <file>', description: 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' },
];

const OUTPUT_OPTIONS: OptionSpec[] = [
  { flags: '-o, --output <format>', description: 'how to print the trace', default: 'table', choices: ['table', 'json', 'yaml'] },
  { flags: '--out <file>', description: 'where to save the trace JSON' },
];

export const CREATE_OPTIONS: OptionSpec[] = [
  { flags: '--name <name>', description: 'pod name (default: podtrace-<image>-<random>)' },
  ...KUBE_OPTIONS,
  { flags: '-f, --filename <file>', description: 'create the Pod in this manifest instead of one built from IMAGE and flags' },
  { flags: '--pull-policy <policy>', description: 'imagePullPolicy', choices: ['Always', 'IfNotPresent', 'Never'] },
  { flags: '--requests <list>', description: 'resource requests, e.g. cpu=100m,memory=64Mi' },
  { flags: '--limits <list>', description: 'resource limits, e.g. cpu=500m,memory=128Mi' },
  { flags: '--port <port>', description: 'container port to declare' },
  { flags: '--readiness <probe>', description: 'readiness probe: http:PORT/PATH or tcp:PORT' },
  { flags: '--env <NAME=VALUE>', description: 'environment variable (repeatable)', repeatable: true },
  { flags: '--command', description: 'the words after -- replace the entrypoint (without it they are its args)' },
  { flags: '--node-selector <key=value>', description: 'node selector label (repeatable)', repeatable: true },
  { flags: '--timeout <duration>', description: 'give up waiting for Ready after this long', default: '5m' },
  { flags: '--keep', description: 'leave the pod running (default: delete it and trace the teardown)' },
  {
    flags: '--expose <port>',
    description: 'also create a Service for the pod on PORT and time its endpoint in the EndpointSlice (deleted with the pod)',
  },
  {
    flags: '--observe <duration>',
    description: 'after Ready, keep watching this long (e.g. 30s): restarts and their reasons, probe failures, CPU and memory',
  },
  { flags: '--logs <n>', description: "add the first N lines of each container's log to the trace" },
  ...OUTPUT_OPTIONS,
  { flags: '--record <file>', description: 'also save every observation as an NDJSON recording (for replay)' },
  { flags: '-q, --quiet', description: 'no live progress on stderr' },
  { flags: '--runs <n>', description: 'create the pod N times, one after another, and save them as one run set (default: 1)' },
  { flags: '--interval <duration>', description: 'with --runs: pause this long between runs, e.g. 5s (default: none)' },
  {
    flags: '--fail-on <gates>',
    description: "exit 30 when a gate fails, e.g. 'ready>5s,pull>2s' (with --runs: the median; METRIC.p90>.. for another statistic; repeatable)",
    repeatable: true,
  },
];

export const REPLAY_OPTIONS: OptionSpec[] = [...OUTPUT_OPTIONS];

export const WATCH_OPTIONS: OptionSpec[] = [
  { flags: '-l, --selector <selector>', description: 'label selector of the pods to trace, e.g. app=web' },
  ...KUBE_OPTIONS,
  { flags: '--for <duration>', description: 'stop watching after this long', default: '5m' },
  { flags: '--count <n>', description: 'stop once N pods are Ready, failed or gone' },
  ...OUTPUT_OPTIONS,
  { flags: '-q, --quiet', description: 'no progress lines on stderr' },
];

export const INSPECT_OPTIONS: OptionSpec[] = [
  ...KUBE_OPTIONS,
  ...OUTPUT_OPTIONS,
  { flags: '--record <file>', description: 'also save what was read as an NDJSON recording (for replay)' },
];

export const REPORT_OPTIONS: OptionSpec[] = [
  {
    flags: '-o, --output <format>',
    description: "report format (default: from --out's extension, else table)",
    choices: ['table', 'json', 'csv', 'markdown', 'html', 'chrome-trace', 'otlp'],
  },
  { flags: '--out <file>', description: 'write the report to this file (atomically) instead of stdout' },
  { flags: '--fail-on <gates>', description: "exit 30 when a gate fails, e.g. 'ready>5s,pull.p90>2s' (repeatable)", repeatable: true },
  { flags: '--threshold <rule>', description: 'for the diff of two sets: 10%, 200ms or METRIC=LIMIT (repeatable; default 10%)', repeatable: true },
];

export const DIFF_OPTIONS: OptionSpec[] = [
  {
    flags: '--threshold <rule>',
    description: 'what counts as a regression: 10%, 200ms (both: beyond both), METRIC=LIMIT such as pull=1s (repeatable; default: 10% and 50ms)',
    repeatable: true,
  },
  { flags: '--fail-on-regression', description: 'exit 31 when any metric regressed (one line on stderr says which)' },
  { flags: '-o, --output <format>', description: 'how to print the diff', default: 'table', choices: ['table', 'json', 'markdown'] },
];

const GLOBAL_OPTIONS: OptionSpec[] = [{ flags: '--debug', description: 'print stack traces for unexpected errors (or PODTRACE_DEBUG=1)' }];

export type Invocation =
  | { command: 'create'; flags: CreateFlags; debug: boolean }
  | { command: 'replay'; flags: ReplayFlags; debug: boolean }
  | { command: 'inspect'; flags: InspectFlags; debug: boolean }
  | { command: 'watch'; flags: WatchFlags; debug: boolean }
  | { command: 'diff'; flags: DiffFlags; debug: boolean }
  | { command: 'report'; flags: ReportFlags; debug: boolean }
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

function addOptions(command: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of [...specs, ...GLOBAL_OPTIONS]) {
    const option = new Option(spec.flags, spec.description);
    if (spec.default !== undefined) option.default(spec.default);
    if (spec.repeatable) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    // Choices are listed in the help; validation (case-insensitive, with a hint) is the command's job.
    if (spec.choices) option.description = `${spec.description} (${spec.choices.join('|')})`;
    command.addOption(option);
  }
  return command;
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
  addOptions(program, []);

  const create = addOptions(
    program
      .command('create')
      .description('create a pod, watch it become Ready (or fail), delete it, and print the timed trace')
      .argument('[image]', 'container image, e.g. nginx or registry.local:5000/app:1.2'),
    CREATE_OPTIONS,
  ).addHelpText(
    'after',
    `
Words after -- are the container's args (with --command: its command), as with kubectl run.

Examples:
  podtrace create nginx
  podtrace create nginx:1.27 -n demo --readiness http:80/ --timeout 2m
  podtrace create busybox --command -- sleep 3600
  podtrace create -f pod.yaml -o json --record run.ndjson
  podtrace create nginx --runs 5 --fail-on 'ready>5s,pull>2s'
`,
  );
  create.action((image: string | undefined, options: Record<string, unknown>) => {
    invocation = { command: 'create', flags: toCreateFlags(image, options, trailingArgs), debug: options['debug'] === true };
  });

  const replay = addOptions(
    program
      .command('replay')
      .description('rebuild and print the trace from a recording (--record), offline')
      .argument('<recording>', 'NDJSON recording written by podtrace create --record'),
    REPLAY_OPTIONS,
  );
  replay.action((file: string, options: Record<string, unknown>) => {
    if (trailingArgs.length > 0) throw new UsageError('replay takes no arguments after --');
    invocation = {
      command: 'replay',
      flags: {
        file,
        output: String(options['output']),
        ...(typeof options['out'] === 'string' ? { out: options['out'] } : {}),
      },
      debug: options['debug'] === true,
    };
  });

  const inspect = addOptions(
    program
      .command('inspect')
      .description("rebuild the best trace possible for an existing pod podtrace did not create (from its status and the events left)")
      .argument('<pod>', 'pod name'),
    INSPECT_OPTIONS,
  ).addHelpText(
    'after',
    `
Nothing is created or deleted. The API server keeps events 1 h by default: for an older pod
the times come from its status fields, to the second, and the trace says so (run.incomplete).

Examples:
  podtrace inspect web-7d4b9c-x2x8q -n shop
  podtrace inspect web-7d4b9c-x2x8q -n shop -o json --out web.json
`,
  );
  inspect.action((pod: string, options: Record<string, unknown>) => {
    if (trailingArgs.length > 0) throw new UsageError('inspect takes no arguments after --');
    const str = (key: string): string | undefined => (typeof options[key] === 'string' ? (options[key] as string) : undefined);
    const flags: InspectFlags = { pod, output: str('output') ?? 'table' };
    for (const key of ['namespace', 'context', 'kubeconfig', 'out', 'record'] as const) {
      const value = str(key);
      if (value !== undefined) flags[key] = value;
    }
    invocation = { command: 'inspect', flags, debug: options['debug'] === true };
  });

  const watchCommand = addOptions(
    program.command('watch').description('trace every pod that appears matching a label selector (a rollout, a Job): one trace each, saved as a run set'),
    WATCH_OPTIONS,
  ).addHelpText(
    'after',
    `
Pods that exist when the watch starts are not traced. Nothing is created or deleted. The run set
goes to --out (default ./traces/watch-<time>.runset.json); podtrace report and diff read it.

Examples:
  podtrace watch -l app=web -n shop --for 10m      # then: kubectl rollout restart deploy/web -n shop
  podtrace watch -l job-name=migrate --count 1 -o json
`,
  );
  watchCommand.action((options: Record<string, unknown>) => {
    if (trailingArgs.length > 0) throw new UsageError('watch takes no arguments after --');
    const str = (key: string): string | undefined => (typeof options[key] === 'string' ? (options[key] as string) : undefined);
    const selector = str('selector');
    if (selector === undefined) throw new UsageError('podtrace watch needs -l SELECTOR (e.g. -l app=web)');
    const flags: WatchFlags = { selector, for: str('for') ?? '5m', output: str('output') ?? 'table', quiet: options['quiet'] === true };
    for (const key of ['namespace', 'context', 'kubeconfig', 'out', 'count'] as const) {
      const value = str(key);
      if (value !== undefined) flags[key] = value;
    }
    invocation = { command: 'watch', flags, debug: options['debug'] === true };
  });

  const report = addOptions(
    program
      .command('report')
      .description('summarize traces and run sets: per-metric quantiles, waterfalls, exports (html, csv, markdown, chrome-trace, otlp)')
      .argument('<files...>', 'trace files (-o json / --out of create) or run sets (create --runs N); each file is one set'),
    REPORT_OPTIONS,
  ).addHelpText(
    'after',
    `
Formats: table (terminal), json (per-metric quantiles; schema/report.schema.json), csv (one row per
run and metric, and per run and step), markdown (for a PR comment), html (one self-contained page:
waterfalls, distributions, the diff of two sets), chrome-trace (Perfetto, chrome://tracing),
otlp (OTLP/JSON spans for Jaeger or Tempo). Two files: the report includes their diff.

Examples:
  podtrace report run.json
  podtrace report before.json after.json --out report.html
  podtrace report runs.json -o markdown --fail-on 'ready>5s,pull.p90>2s'
  podtrace report runs.json -o chrome-trace --out trace.perfetto.json
`,
  );
  report.action((files: string[], options: Record<string, unknown>) => {
    if (trailingArgs.length > 0) throw new UsageError('report takes no arguments after --');
    const list = (key: string): string[] => (Array.isArray(options[key]) ? (options[key] as string[]) : []);
    invocation = {
      command: 'report',
      flags: {
        files,
        failOn: list('failOn'),
        thresholds: list('threshold'),
        ...(typeof options['output'] === 'string' ? { output: options['output'] } : {}),
        ...(typeof options['out'] === 'string' ? { out: options['out'] } : {}),
      },
      debug: options['debug'] === true,
    };
  });

  const diffCommand = addOptions(
    program
      .command('diff')
      .description('compare two traces or run sets metric by metric: deltas, bootstrap intervals, regressions, what else differs')
      .argument('<a>', 'baseline: a trace file (create -o json / --out) or a run set (create --runs N)')
      .argument('<b>', 'candidate, compared against <a>'),
    DIFF_OPTIONS,
  ).addHelpText(
    'after',
    `
A metric regressed when B's median is slower than A's by more than its threshold and, with
2 or more runs on each side, the 95% bootstrap interval of the difference excludes 0 (else: noise).
With single traces there is no interval: a change beyond the threshold is a regression.

Examples:
  podtrace diff warm.runset.json cold.runset.json
  podtrace diff before.json after.json --threshold 10% --threshold 50ms --threshold pull=1s
  podtrace diff main.runset.json pr.runset.json -o markdown --fail-on-regression
`,
  );
  diffCommand.action((a: string, b: string, options: Record<string, unknown>) => {
    if (trailingArgs.length > 0) throw new UsageError('diff takes no arguments after --');
    invocation = {
      command: 'diff',
      flags: {
        a,
        b,
        thresholds: Array.isArray(options['threshold']) ? (options['threshold'] as string[]) : [],
        failOnRegression: options['failOnRegression'] === true,
        output: String(options['output']),
      },
      debug: options['debug'] === true,
    };
  });

  for (const command of [create, replay, inspect, watchCommand, report, diffCommand]) {
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
        return (await import('./commands/create.js')).run(parsed.flags, commandCtx);
      case 'replay':
        return (await import('./commands/replay.js')).run(parsed.flags, commandCtx);
      case 'inspect':
        return (await import('./commands/inspect.js')).run(parsed.flags, commandCtx);
      case 'watch':
        return (await import('./commands/watch.js')).run(parsed.flags, commandCtx);
      case 'diff':
        return (await import('./commands/diff.js')).run(parsed.flags, commandCtx);
      case 'report':
        return (await import('./commands/report.js')).run(parsed.flags, commandCtx);
    }
  }

  return { program, parse, run };
}

function toCreateFlags(image: string | undefined, options: Record<string, unknown>, trailingArgs: string[]): CreateFlags {
  const str = (key: string): string | undefined => (typeof options[key] === 'string' ? (options[key] as string) : undefined);
  const list = (key: string): string[] => (Array.isArray(options[key]) ? (options[key] as string[]) : []);
  const flags: CreateFlags = {
    trailingArgs,
    command: options['command'] === true,
    env: list('env'),
    nodeSelector: list('nodeSelector'),
    timeout: str('timeout') ?? '5m',
    keep: options['keep'] === true,
    output: str('output') ?? 'table',
    quiet: options['quiet'] === true,
    ...(list('failOn').length > 0 ? { failOn: list('failOn') } : {}),
  };
  const optional: Array<[keyof CreateFlags, string | undefined]> = [
    ['image', image],
    ['name', str('name')],
    ['namespace', str('namespace')],
    ['context', str('context')],
    ['kubeconfig', str('kubeconfig')],
    ['file', str('filename')],
    ['pullPolicy', str('pullPolicy')],
    ['requests', str('requests')],
    ['limits', str('limits')],
    ['port', str('port')],
    ['readiness', str('readiness')],
    ['out', str('out')],
    ['record', str('record')],
    ['runs', str('runs')],
    ['interval', str('interval')],
    ['expose', str('expose')],
    ['observe', str('observe')],
    ['logs', str('logs')],
  ];
  for (const [key, value] of optional) {
    if (value !== undefined) (flags as unknown as Record<string, unknown>)[key] = value;
  }
  return flags;
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
