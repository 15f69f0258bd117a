/**
 * The few numbers and classifications podtrace reads out of component
 * messages. Callers select events on reason + reporting component first;
 * these parsers only extract what the message alone carries (the kubelet's
 * own pull durations, image size, and the kind of pull failure).
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  'µs': 0.001, // U+00B5, what Go prints
  'μs': 0.001, // U+03BC, seen after copy and paste
  ns: 0.000001,
};

const DURATION = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:h|ms|m|s|us|µs|μs|ns))+$/;
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)/g;

/** Go's time.Duration String() format ("1m2.5s", "123ms", "850.123µs", "0s") in ms. */
export function parseGoDuration(text: string): number | undefined {
  const value = text.trim();
  if (value === '0') return 0;
  if (!DURATION.test(value)) return undefined;
  let total = 0;
  for (const m of value.matchAll(DURATION_PART)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  // Whole ns, as Go has them: drops the float noise of the unit products.
  total = Math.round(total * 1e6) / 1e6;
  return value.startsWith('-') ? -total : total;
}

export type PulledMessage =
  | {
      kind: 'pulled';
      image: string;
      /** The runtime's pull time as the kubelet reports it. */
      pullMs: number;
      /** Including the wait for the kubelet's pull queue (kubelet >= 1.28). */
      includingWaitingMs?: number;
      imageSizeBytes?: number;
    }
  | { kind: 'present'; image: string };

// 1.30+: Successfully pulled image "X" in 1.234s (1.5s including waiting). Image size: 123 bytes.
// 1.28-1.29: Successfully pulled image "X" in 1.234s (1.5s including waiting)
// older: Successfully pulled image "X" in 1.234s
const PULLED =
  /^Successfully pulled image "([^"]*)" in (\S+?)(?: \((\S+) including waiting\))?\.?(?: Image size: (\d+) bytes\.?)?\s*$/;
// 'Container image "X" already present on machine' and, with
// KubeletEnsureSecretPulledImages, '... already present on machine and can be accessed by the pod'.
const PRESENT = /^Container image "([^"]*)" already present on machine\b/;

/** Parses the message of a kubelet `Pulled` event; undefined when it is neither wording. */
export function parsePulledMessage(message: string): PulledMessage | undefined {
  const pulled = PULLED.exec(message);
  if (pulled) {
    const pullMs = parseGoDuration(pulled[2]!);
    if (pullMs === undefined) return undefined;
    const result: PulledMessage = { kind: 'pulled', image: pulled[1]!, pullMs };
    if (pulled[3] !== undefined) {
      const waiting = parseGoDuration(pulled[3]);
      if (waiting !== undefined) result.includingWaitingMs = waiting;
    }
    if (pulled[4] !== undefined) result.imageSizeBytes = Number(pulled[4]);
    return result;
  }
  const present = PRESENT.exec(message);
  if (present) return { kind: 'present', image: present[1]! };
  return undefined;
}

/** The image named by a kubelet `Pulling` / `Failed` / `BackOff` message, when it names one. */
export function imageInMessage(message: string): string | undefined {
  return /image "([^"]*)"/.exec(message)?.[1];
}

export type PullFailureKind = 'not-found' | 'unauthorized' | 'other';

// Checked before NOT_FOUND: registries answer "pull access denied, repository
// does not exist or may require authorization" for both, and only credentials can tell.
const UNAUTHORIZED = [
  /\b401\b/,
  /\bunauthorized\b/i,
  /pull access denied/i,
  /insufficient_scope/i,
  /authorization failed/i,
  /\b403 Forbidden\b/i,
  /denied: requested access/i,
  /no basic auth credentials/i,
  /authentication required/i,
];
const NOT_FOUND = [
  /code = NotFound/,
  /:\s*not found\s*$/i,
  /\bnot found\b/i,
  /manifest unknown/i,
  /name unknown/i,
  /\b404\b/,
  /repository .* does not exist/i,
];

/**
 * Classifies a pull failure from the kubelet's `Failed` event message or the
 * container's waiting message (ErrImagePull / ImagePullBackOff). The runtime's
 * error text is the only place this information exists.
 */
export function classifyPullFailure(message: string): PullFailureKind {
  if (UNAUTHORIZED.some((re) => re.test(message))) return 'unauthorized';
  if (NOT_FOUND.some((re) => re.test(message))) return 'not-found';
  return 'other';
}

/**
 * The cause in a pull failure's message, without what every one repeats:
 * 'Failed to pull image "nginx": pull QPS exceeded' gives 'pull QPS exceeded'
 * (the kubelet's own registryPullQPS limit). A longer chain of wrapped errors
 * keeps its end, where the root cause is ("…dial tcp ...: connection refused"),
 * cut at a ': ' to at most `max` characters.
 */
export function pullFailureCause(message: string, max = 120): string {
  const cause = message
    .replace(/^Failed to pull image "[^"]*":\s*/, '')
    .replace(/^rpc error: code = \w+ desc = /, '')
    .trim();
  if (cause.length <= max) return cause;
  const parts = cause.split(': ');
  let tail = parts.pop()!;
  while (parts.length > 0 && parts.at(-1)!.length + 2 + tail.length <= max - 1) tail = `${parts.pop()!}: ${tail}`;
  return `…${tail.slice(-(max - 1))}`;
}

/** Which probe an `Unhealthy` event is about: only its message says so. */
export function probeKind(message: string): 'readiness' | 'liveness' | 'startup' | undefined {
  const m = /^(Readiness|Liveness|Startup) probe/i.exec(message);
  return m ? (m[1]!.toLowerCase() as 'readiness' | 'liveness' | 'startup') : undefined;
}

/** Node name from the scheduler's "Successfully assigned ns/name to node". */
export function nodeFromScheduledMessage(message: string): string | undefined {
  return /\bto (\S+)\s*$/.exec(message)?.[1];
}
