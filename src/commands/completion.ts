/**
 * `podtrace completion bash|zsh|fish`: a completion script made from the command line's own
 * definition (the commands, their flags, the values a flag takes from a fixed list, and which
 * flags name files), so it never goes stale. Installed as `podtrace` and as the kubectl plugin
 * `kubectl-podtrace`; the scripts complete both names. Pure: a spec in, a script out.
 */
import { UsageError } from '../errors.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface FlagSpec {
  /** '--pull-policy'. */
  long: string;
  /** '-o'. */
  short?: string;
  takesValue: boolean;
  /** Values from a fixed list. */
  choices?: readonly string[];
  /** The value is a file path. */
  file?: boolean;
  description: string;
}

export interface CommandSpec {
  name: string;
  description: string;
  flags: FlagSpec[];
  /** Its arguments are files (replay, report, diff). */
  fileArgs?: boolean;
}

export function parseShell(text: string): Shell {
  const shell = SHELLS.find((s) => s === text.toLowerCase());
  if (!shell) throw new UsageError(`completion ${text}: give one of ${SHELLS.join(', ')} (e.g. podtrace completion bash > /etc/bash_completion.d/podtrace)`);
  return shell;
}

export function completionScript(shell: Shell, commands: readonly CommandSpec[]): string {
  switch (shell) {
    case 'bash':
      return bash(commands);
    case 'zsh':
      return zsh(commands);
    case 'fish':
      return fish(commands);
  }
}

const words = (list: readonly string[]): string => list.join(' ');

function bashBody(commands: readonly CommandSpec[]): string {
  const cases = commands
    .map((c) => {
      const flags = c.flags.flatMap((f) => [f.long, ...(f.short ? [f.short] : [])]);
      const valued = c.flags
        .filter((f) => f.takesValue)
        .map((f) => {
          const names = [f.long, ...(f.short ? [f.short] : [])].join('|');
          if (f.choices) return `        ${names}) COMPREPLY=($(compgen -W "${words(f.choices)}" -- "$cur")); return ;;`;
          if (f.file) return `        ${names}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`;
          return `        ${names}) return ;;`;
        })
        .join('\n');
      return [
        `    ${c.name})`,
        '      case "$prev" in',
        valued,
        '      esac',
        `      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${words(flags)}" -- "$cur")); return; fi`,
        c.fileArgs ? '      COMPREPLY=($(compgen -f -- "$cur"))' : '      COMPREPLY=()',
        '      ;;',
      ].join('\n');
    })
    .join('\n');
  return `_podtrace() {
  local cur prev cmd i start=1
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # as a kubectl plugin the words start with "kubectl podtrace"
  [[ "\${COMP_WORDS[0]}" == kubectl ]] && start=2
  cmd=""
  for ((i = start; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) cmd="\${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${words(commands.map((c) => c.name))} --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
  esac
}
`;
}

function bash(commands: readonly CommandSpec[]): string {
  return `# podtrace completion for bash: source it, or save it as /etc/bash_completion.d/podtrace
${bashBody(commands)}complete -o default -F _podtrace podtrace kubectl-podtrace
`;
}

function zsh(commands: readonly CommandSpec[]): string {
  return `#compdef podtrace kubectl-podtrace
# podtrace completion for zsh (through bash completion): source it from ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashBody(commands)}complete -o default -F _podtrace podtrace kubectl-podtrace
`;
}

/** A fish string in single quotes. */
function q(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fish(commands: readonly CommandSpec[]): string {
  const names = words(commands.map((c) => c.name));
  const lines = [
    '# podtrace completion for fish: save it as ~/.config/fish/completions/podtrace.fish',
    'for cmd in podtrace kubectl-podtrace',
    '  complete -c $cmd -f',
    ...commands.map((c) => `  complete -c $cmd -n "not __fish_seen_subcommand_from ${names}" -a ${c.name} -d ${q(c.description)}`),
  ];
  for (const c of commands) {
    for (const f of c.flags) {
      const parts = [`  complete -c $cmd -n "__fish_seen_subcommand_from ${c.name}" -l ${f.long.replace(/^--/, '')}`];
      if (f.short) parts.push(`-s ${f.short.replace(/^-/, '')}`);
      if (f.takesValue) parts.push(f.file ? '-r -F' : '-r');
      if (f.choices) parts.push(`-a ${q(words(f.choices))}`);
      parts.push(`-d ${q(f.description)}`);
      lines.push(parts.join(' '));
    }
    if (c.fileArgs) lines.push(`  complete -c $cmd -n "__fish_seen_subcommand_from ${c.name}" -F`);
  }
  lines.push('end', '');
  return lines.join('\n');
}
