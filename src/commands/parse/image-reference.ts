import { UsageError } from '../../errors.js';

/**
 * A container image reference, split the way the container runtime will read it:
 * `[domain[:port]/]path[:tag][@algorithm:hex]`.
 */
export interface ImageReference {
  /** As typed. */
  raw: string;
  /** Registry host (and port) when the reference names one explicitly. */
  domain?: string;
  /** Repository path without the domain, e.g. `library/nginx` or `nginx`. */
  path: string;
  tag?: string;
  digest?: string;
}

// The grammar of distribution/reference, written out piece by piece.
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = new RegExp(`^${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*$`);
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const PORT = /^[0-9]+$/;
const IPV6_HOST = /^\[[0-9a-fA-F:.]+\]$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_ALGORITHM = /^[A-Za-z][A-Za-z0-9]*(?:[+._-][A-Za-z][A-Za-z0-9]*)*$/;
const DIGEST_HEX = /^[0-9a-fA-F]{32,}$/;
/** Hex lengths the registries actually check for the common algorithms. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const MAX_NAME_LENGTH = 255;

function invalid(raw: string, why: string): UsageError {
  return new UsageError(`invalid image reference "${raw}": ${why}`);
}

/** Parses an image reference or throws a UsageError that says what is wrong with it. */
export function parseImageReference(raw: string): ImageReference {
  if (raw.length === 0) throw invalid(raw, 'it is empty');
  if (/\s/.test(raw)) throw invalid(raw, 'it contains whitespace');

  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    validateDigest(raw, digest);
  }

  // A tag follows the last ':' only when no '/' comes after it (a ':' before a '/' is a registry port).
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag.length === 0) throw invalid(raw, 'the tag after ":" is empty (write e.g. "nginx:1.27" or just "nginx")');
    if (!TAG.test(tag)) {
      throw invalid(raw, `tag "${tag}" may only contain letters, digits, "_", "." and "-" (at most 128, not starting with "." or "-")`);
    }
  }

  if (rest.length === 0) throw invalid(raw, 'the repository name is empty');
  if (rest.length > MAX_NAME_LENGTH) throw invalid(raw, `the repository name is longer than ${MAX_NAME_LENGTH} characters`);

  const components = rest.split('/');
  let domain: string | undefined;
  const first = components[0]!;
  if (components.length > 1 && looksLikeDomain(first)) {
    domain = first;
    components.shift();
    validateDomain(raw, domain);
  }

  for (const component of components) {
    if (component.length === 0) throw invalid(raw, 'the repository path has an empty component ("//" or a leading/trailing "/")');
    if (!PATH_COMPONENT.test(component)) {
      if (component.toLowerCase() !== component && PATH_COMPONENT.test(component.toLowerCase())) {
        throw invalid(raw, `repository names must be lowercase (try "${raw.replace(component, component.toLowerCase())}")`);
      }
      throw invalid(
        raw,
        `"${component}" is not a valid repository name component (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
      );
    }
  }

  return {
    raw,
    ...(domain !== undefined ? { domain } : {}),
    path: components.join('/'),
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** Docker's rule: the first component is a registry when it has a '.' or ':', is localhost, or has uppercase letters. */
function looksLikeDomain(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component !== component.toLowerCase();
}

function validateDomain(raw: string, domain: string): void {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    host = domain.slice(0, close + 1);
    const after = domain.slice(close + 1);
    if (after.length > 0) {
      if (!after.startsWith(':')) throw invalid(raw, `registry "${domain}" is not a valid host[:port]`);
      port = after.slice(1);
    }
    if (!IPV6_HOST.test(host)) throw invalid(raw, `registry "${domain}" is not a valid host[:port]`);
  } else {
    const colon = domain.indexOf(':');
    if (colon !== -1) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (!host.split('.').every((part) => DOMAIN_COMPONENT.test(part))) {
      throw invalid(raw, `registry "${domain}" is not a valid host[:port]`);
    }
  }
  if (port !== undefined && !PORT.test(port)) throw invalid(raw, `registry port "${port}" is not a number`);
}

function validateDigest(raw: string, digest: string): void {
  const colon = digest.indexOf(':');
  if (colon === -1) throw invalid(raw, 'the digest after "@" must look like "sha256:<64 hex digits>"');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (!DIGEST_ALGORITHM.test(algorithm)) throw invalid(raw, `digest algorithm "${algorithm}" is not valid`);
  const expected = DIGEST_HEX_LENGTH[algorithm];
  if (expected !== undefined) {
    if (hex.length !== expected || !/^[0-9a-f]+$/.test(hex)) {
      throw invalid(raw, `a ${algorithm} digest is ${expected} lowercase hex digits, got "${hex}"`);
    }
  } else if (!DIGEST_HEX.test(hex)) {
    throw invalid(raw, 'the digest must be at least 32 hex digits');
  }
}

/** The last path component, e.g. `nginx` for `registry.local:5000/team/nginx:1.27`. */
export function imageBasename(reference: ImageReference): string {
  const components = reference.path.split('/');
  return components[components.length - 1]!;
}
