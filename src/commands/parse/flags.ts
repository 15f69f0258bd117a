import { DURATION_EXAMPLES, parseDuration as parseDurationText } from '../../analysis/duration.js';
import { UsageError } from '../../errors.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';
const PULL_POLICIES: readonly PullPolicy[] = ['Always', 'IfNotPresent', 'Never'];

export function parsePullPolicy(text: string): PullPolicy {
  const policy = PULL_POLICIES.find((candidate) => candidate.toLowerCase() === text.toLowerCase());
  if (policy) return policy;
  throw new UsageError(`--pull-policy ${text}: use one of ${PULL_POLICIES.join(', ')}`);
}

/** A flag's duration: the one grammar (analysis/duration.ts), more than zero, in whole ms. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^[0-9]+(?:\.[0-9]+)?$/.test(trimmed)) {
    throw new UsageError(`${flag} ${text}: a duration needs a unit, e.g. ${trimmed}s or ${trimmed}ms`);
  }
  const ms = parseDurationText(trimmed);
  if (ms === undefined) throw new UsageError(`${flag} ${text}: not a duration; write e.g. ${DURATION_EXAMPLES}`);
  if (!(ms > 0)) throw new UsageError(`${flag} ${text}: must be more than zero`);
  return Math.max(1, Math.round(ms));
}

export function parsePort(text: string, flag: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`${flag} ${text}: a port is a number from 1 to 65535`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new UsageError(`${flag} ${text}: a port is a number from 1 to 65535`);
  return port;
}

export type Readiness = { kind: 'http'; port: number; path: string } | { kind: 'tcp'; port: number };

/** `http:PORT/PATH` (path defaults to `/`) or `tcp:PORT`. */
export type ReachVantage = 'client' | 'pod';

/** `--reach-from client,pod`: where --expose tries the Service from (at least one, each once). */
export function parseReachFrom(text: string): ReachVantage[] {
  const words = text.split(',').map((w) => w.trim());
  const bad = words.find((w) => w !== 'client' && w !== 'pod');
  if (bad !== undefined || new Set(words).size !== words.length) {
    throw new UsageError(`--reach-from "${text}": give client, pod or client,pod (podtrace's machine, a probe pod in the cluster)`);
  }
  return words as ReachVantage[];
}

export function parseReadiness(text: string): Readiness {
  const usage = `--readiness ${text}: write http:PORT/PATH (e.g. http:80/healthz) or tcp:PORT (e.g. tcp:5432)`;
  const http = /^http:([0-9]+)(\/.*)?$/i.exec(text);
  if (http) {
    const path = http[2] ?? '/';
    if (/\s/.test(path)) throw new UsageError(`${usage}; the path must not contain spaces`);
    return { kind: 'http', port: parsePort(http[1]!, '--readiness'), path };
  }
  const tcp = /^tcp:([0-9]+)$/i.exec(text);
  if (tcp) return { kind: 'tcp', port: parsePort(tcp[1]!, '--readiness') };
  throw new UsageError(usage);
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Repeated `--env K=V`; the value may itself contain '='. */
export function parseEnv(entries: readonly string[]): Array<{ name: string; value: string }> {
  const seen = new Set<string>();
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env ${entry}: write NAME=VALUE, e.g. --env LOG_LEVEL=debug`);
    const name = entry.slice(0, eq);
    if (!ENV_NAME.test(name)) {
      throw new UsageError(`--env ${entry}: "${name}" is not a valid variable name (letters, digits, "_", "-", ".", not starting with a digit)`);
    }
    if (seen.has(name)) throw new UsageError(`--env ${name} is given twice`);
    seen.add(name);
    return { name, value: entry.slice(eq + 1) };
  });
}

const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function isDns1123Label(text: string): boolean {
  return text.length <= 63 && DNS1123_LABEL.test(text);
}

export function isDns1123Subdomain(text: string): boolean {
  return text.length <= 253 && DNS1123_SUBDOMAIN.test(text);
}

/** An object name that is a DNS-1123 subdomain (pods, nodes); `what` names it in the error. */
function validateSubdomainName(name: string, flag: string, what: string, suffix = ''): string {
  if (!isDns1123Subdomain(name)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(name)}: a ${what} name is lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters${suffix}`,
    );
  }
  return name;
}

export function validatePodName(name: string, flag = '--name'): string {
  return validateSubdomainName(name, flag, 'pod');
}

export function validateNodeName(name: string, flag = '--node'): string {
  return validateSubdomainName(name, flag, 'node', ' (kubectl get nodes)');
}

export function validateNamespace(namespace: string): string {
  if (!isDns1123Label(namespace)) {
    throw new UsageError(
      `-n ${JSON.stringify(namespace)}: a namespace is lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters`,
    );
  }
  return namespace;
}

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value));
}

/** Repeated or comma-separated `--node-selector key=value`. */
export function parseNodeSelector(entries: readonly string[]): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const entry of entries.flatMap((e) => e.split(','))) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new UsageError(`--node-selector ${entry}: write KEY=VALUE, e.g. --node-selector kubernetes.io/os=linux`);
    const key = trimmed.slice(0, eq);
    const value = trimmed.slice(eq + 1);
    if (!isLabelKey(key)) throw new UsageError(`--node-selector: "${key}" is not a valid label key`);
    if (!isLabelValue(value)) throw new UsageError(`--node-selector ${key}: "${value}" is not a valid label value`);
    if (key in selector && selector[key] !== value) throw new UsageError(`--node-selector ${key} is given twice with different values`);
    selector[key] = value;
  }
  return selector;
}
