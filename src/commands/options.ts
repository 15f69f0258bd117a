/**
 * Options declared as data: one typed table per command maps every field of
 * that command's options type to its flag, help text, default and parser, so
 * a flag lives in one place. cli.ts registers the tables with commander (help
 * and parsing), readOptions() turns what commander collected into the typed
 * options, parsing each value (a bad one is a usage error naming its flag).
 */

interface Common {
  /** As commander takes it: '-n, --namespace <namespace>', '--keep'. */
  flags: string;
  description: string;
}

/** A flag with a value; absent and without a default, the option is undefined. */
export interface ValueOption<V> extends Common {
  kind: 'value';
  /** As it would be typed; parsed like any given value. Shown in the help. */
  default?: string;
  /** Listed in the help; validation is the parser's (case-insensitive, with a hint). */
  choices?: readonly string[];
  parse(text: string): V;
}

/** A repeatable flag: every occurrence, in order ([] when absent). */
export interface ListOption<V> extends Common {
  kind: 'list';
  parse(texts: string[]): V;
}

/** A flag without a value. */
export interface SwitchOption extends Common {
  kind: 'switch';
}

export type OptionSpec<V> = ValueOption<V> | ListOption<V> | (V extends boolean ? SwitchOption : never);

/** Any entry, as the registering code sees it. */
export type AnyOption = ValueOption<unknown> | ListOption<unknown> | SwitchOption;

/** Every field of T has its entry: a field without a flag does not compile. */
export type OptionTable<T> = { [K in keyof T]-?: OptionSpec<NonNullable<T[K]>> };

/**
 * commander's attribute name for a flag: '--pull-policy <p>' is pullPolicy,
 * '-f, --filename <f>' is filename, '--no-metrics' is metrics (true unless given).
 */
export function attributeName(flags: string): string {
  const long = /--([a-z][a-z0-9-]*)/i.exec(flags)?.[1];
  if (long === undefined) throw new Error(`option ${flags} has no long name`);
  return long.replace(/^no-/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function negated(flags: string): boolean {
  return /(^|\s)--no-/.test(flags);
}

/** The typed options from commander's values: defaults applied, every value parsed, in the table's order. */
export function readOptions<T>(table: OptionTable<T>, values: Readonly<Record<string, unknown>>): T {
  const options: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table) as Array<[string, AnyOption]>) {
    const raw = values[attributeName(spec.flags)];
    switch (spec.kind) {
      case 'switch':
        // '--no-x' is on unless given; commander sets false when it is
        options[key] = negated(spec.flags) ? raw !== false : raw === true;
        break;
      case 'list':
        options[key] = spec.parse(Array.isArray(raw) ? (raw as string[]) : []);
        break;
      case 'value': {
        const text = typeof raw === 'string' ? raw : spec.default;
        if (text !== undefined) options[key] = spec.parse(text);
        break;
      }
    }
  }
  return options as T;
}
