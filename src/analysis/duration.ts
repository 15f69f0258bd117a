/**
 * The one duration grammar of podtrace, for every flag (`--timeout`, `--for`,
 * `--interval`, `--observe`) and every rule (`--fail-on ready>5s`,
 * `--threshold pull=1s`): numbers with a unit each, Go-style, as kubectl's
 * `--timeout` takes them: `200ms`, `1.5s`, `5m`, `1m30s`, `1h`. A number
 * without a unit (`90`) is refused everywhere: `ready>90` could mean 90 ms or
 * 90 s, and a flag that read it as seconds would disagree with a rule that
 * reads the same text.
 */

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The duration in ms (zero allowed: a range is the caller's rule), or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) return undefined;
  let ms = 0;
  for (const match of trimmed.matchAll(DURATION_PART)) ms += Number(match[1]) * UNIT_MS[match[2]!]!;
  return Math.round(ms * 1000) / 1000;
}

/** How to write one, for error messages. */
export const DURATION_EXAMPLES = '200ms, 1.5s, 90s, 5m, 1m30s or 1h';
