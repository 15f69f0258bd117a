/**
 * The runtime says only "not found" when a pull fails, whether the repository or its tag is
 * missing. The registry knows: its tags list (`GET /v2/REPO/tags/list`, the distribution API)
 * answers 404 NAME_UNKNOWN for a repository it does not have, and the tags of one it has. Asked
 * once, from podtrace's machine, when the pull failed with "not found"; recorded as `image-lookup`
 * so the cause can say which, and name the tags there are. An anonymous token is fetched when the
 * registry asks for one (Docker Hub does) and is never recorded. A registry podtrace cannot reach
 * or that wants credentials leaves the cause as it was, with the reason.
 *
 * Nodes may pull through a mirror (kind's local registry, containerd's hosts.toml): then the
 * registry to ask is the mirror, given as PODTRACE_REGISTRY_MIRRORS=docker.io=http://HOST:PORT.
 */
import { UsageError } from '../../errors.js';
import type { RunState } from './state.js';

/** The whole lookup, token included, gives up after this long. */
const LOOKUP_TIMEOUT_MS = 3000;
/** How many of the repository's tags the observation keeps. */
const TAGS_KEPT = 20;

export interface LookupTarget {
  image: string;
  /** The registry as the image names it (docker.io when it names none). */
  registry: string;
  repository: string;
  tag?: string;
  /** Where to ask: the registry's API, or its mirror's. */
  base: string;
}

/** `docker.io=http://127.0.0.1:5000,quay.io=https://mirror.example` (PODTRACE_REGISTRY_MIRRORS). */
export function parseRegistryMirrors(value: string | undefined): Record<string, string> {
  const mirrors: Record<string, string> = {};
  for (const entry of (value ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const [host, url] = entry.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!host || !url || !/^https?:\/\/[^/@]+\/?$/.test(url)) {
      // no user:password@ either: the address is recorded in the trace
      const shown = url?.includes('@') ? `${host}=(an address with credentials)` : entry;
      throw new UsageError(`PODTRACE_REGISTRY_MIRRORS: "${shown}" is not REGISTRY=http(s)://HOST[:PORT] without credentials (e.g. docker.io=http://127.0.0.1:5000)`);
    }
    mirrors[host] = url.replace(/\/$/, '');
  }
  return mirrors;
}

/** Where to ask about `image`, or undefined when it is not a reference podtrace can read. */
export function lookupTarget(image: string, mirrors: Record<string, string>): LookupTarget | undefined {
  // the reference as the runtime reads it: [domain/]path[:tag][@digest] (podtrace checked it before the POST)
  const at = image.indexOf('@');
  const digest = at === -1 ? undefined : image.slice(at + 1);
  let rest = at === -1 ? image : image.slice(0, at);
  const colon = rest.lastIndexOf(':');
  let tag: string | undefined;
  if (colon !== -1 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  const named = parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost');
  const ref = { domain: named ? parts[0] : undefined, path: (named ? parts.slice(1) : parts).join('/'), tag, digest };
  if (ref.path === '' || /\s/.test(image)) return undefined;
  const registry = ref.domain === undefined || ref.domain === 'index.docker.io' ? 'docker.io' : ref.domain;
  const repository = registry === 'docker.io' && !ref.path.includes('/') ? `library/${ref.path}` : ref.path;
  const base = mirrors[registry] ?? (registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`);
  return { image, registry, repository, ...(ref.digest === undefined ? { tag: ref.tag ?? 'latest' } : {}), base };
}

function isLoopback(base: string): boolean {
  const host = new URL(base).hostname;
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

/** A Bearer challenge's anonymous token, when the registry gives one. */
async function anonymousToken(challenge: string, repository: string, signal: AbortSignal): Promise<string | undefined> {
  const param = (name: string): string | undefined => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1];
  const realm = param('realm');
  if (!/^Bearer /i.test(challenge) || realm === undefined) return undefined;
  const url = new URL(realm);
  const service = param('service');
  if (service !== undefined) url.searchParams.set('service', service);
  url.searchParams.set('scope', param('scope') ?? `repository:${repository}:pull`);
  const res = await fetch(url, { signal });
  if (!res.ok) return undefined;
  const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
  return body.token ?? body.access_token;
}

type Answer = { answer: 'repository-missing' } | { answer: 'tag-missing' | 'tag-present'; tags: string[]; more: boolean } | { answer: 'unknown'; error: string };

/** Asks the registry (over http too for a loopback one, as containerd does) about the target. */
export async function askRegistry(target: LookupTarget, signal: AbortSignal): Promise<Answer> {
  const bases = isLoopback(target.base) && target.base.startsWith('https:') ? [target.base, target.base.replace(/^https:/, 'http:')] : [target.base];
  let lastError = '';
  for (const base of bases) {
    const url = `${base}/v2/${target.repository}/tags/list`;
    try {
      let res = await fetch(url, { signal });
      if (res.status === 401) {
        const token = await anonymousToken(res.headers.get('www-authenticate') ?? '', target.repository, signal);
        if (token === undefined) return { answer: 'unknown', error: `${target.registry} wants credentials to list the tags` };
        res = await fetch(url, { signal, headers: { authorization: `Bearer ${token}` } });
      }
      const body = (await res.json().catch(() => undefined)) as { tags?: unknown; errors?: Array<{ code?: string }> } | undefined;
      if (res.status === 404 && body?.errors?.some((e) => e.code === 'NAME_UNKNOWN')) return { answer: 'repository-missing' };
      if (res.status === 200 && (Array.isArray(body?.tags) || body?.tags === null)) {
        const all = (Array.isArray(body!.tags) ? body!.tags : []).filter((t): t is string => typeof t === 'string').sort();
        const present = target.tag !== undefined && all.includes(target.tag);
        return { answer: present ? 'tag-present' : 'tag-missing', tags: all.slice(0, TAGS_KEPT), more: all.length > TAGS_KEPT };
      }
      return { answer: 'unknown', error: `${target.registry} answered ${res.status} to the tags list` };
    } catch (error) {
      lastError = signal.aborted ? `no answer from ${base} within ${LOOKUP_TIMEOUT_MS / 1000}s` : `cannot reach ${base}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`;
    }
  }
  return { answer: 'unknown', error: lastError };
}

/** After a pull that failed "not found": the registry's answer for each such image, recorded. */
export async function recordImageLookups(state: RunState): Promise<void> {
  const trace = state.traceAtStop;
  if (trace === undefined) return;
  const images = [...new Set(trace.containers.filter((c) => c.pullFailure?.kind === 'not-found').map((c) => c.image))];
  for (const image of images) {
    const target = lookupTarget(image, state.request.registryMirrors ?? {});
    if (target === undefined) continue;
    const answer = await askRegistry(target, AbortSignal.timeout(LOOKUP_TIMEOUT_MS));
    const { base: _base, ...where } = target;
    state.log.client('image-lookup', { ...where, asked: target.base, ...answer });
  }
}
