import { UsageError } from '../../errors.js';

/**
 * Kubernetes resource quantities (`100m`, `1.5`, `64Mi`, `1e3`, `2G`), as the API
 * server's resource.Quantity accepts them. Only non-negative values make sense
 * for requests and limits.
 */
const QUANTITY = /^(?<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The quantity's value in base units (cores, bytes), precise enough to compare requests with limits. */
export function parseQuantity(text: string): number {
  const match = QUANTITY.exec(text);
  if (!match?.groups) {
    throw new UsageError(
      `invalid quantity "${text}": use a number with an optional suffix, e.g. 250m, 0.5, 64Mi, 1Gi, 2G`,
    );
  }
  const value = Number(match.groups['number']);
  const suffix = match.groups['suffix'] ?? '';
  if (suffix in BINARY) return value * BINARY[suffix]!;
  if (suffix in DECIMAL) return value * DECIMAL[suffix]!;
  return value * 10 ** Number(suffix.slice(1));
}

// A resource name: cpu, memory, ephemeral-storage, hugepages-2Mi, or a qualified name like nvidia.com/gpu.
const RESOURCE_NAME = /^(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Parses `cpu=100m,memory=64Mi` into a resource list, validating every quantity. */
export function parseResourceList(text: string, flag: string): Record<string, string> {
  const resources: Record<string, string> = {};
  for (const entry of text.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) {
      throw new UsageError(`${flag} "${text}": each entry must be NAME=QUANTITY, e.g. ${flag} cpu=100m,memory=64Mi`);
    }
    const name = trimmed.slice(0, eq);
    const quantity = trimmed.slice(eq + 1);
    if (!RESOURCE_NAME.test(name)) {
      throw new UsageError(`${flag}: "${name}" is not a resource name (cpu, memory, ephemeral-storage, or a name like example.com/gpu)`);
    }
    if (name in resources) throw new UsageError(`${flag}: resource "${name}" is given twice`);
    try {
      parseQuantity(quantity);
    } catch (error) {
      throw new UsageError(`${flag} ${name}: ${(error as Error).message}`);
    }
    if (name.includes('/') && !Number.isInteger(parseQuantity(quantity))) {
      throw new UsageError(`${flag} ${name}: extended resources take whole numbers, got "${quantity}"`);
    }
    resources[name] = quantity;
  }
  if (Object.keys(resources).length === 0) {
    throw new UsageError(`${flag} is empty: write e.g. ${flag} cpu=100m,memory=64Mi`);
  }
  return resources;
}

/** The API server rejects a request above its limit; say so before creating anything. */
export function checkRequestsWithinLimits(requests: Record<string, string>, limits: Record<string, string>): void {
  for (const [name, request] of Object.entries(requests)) {
    const limit = limits[name];
    if (limit === undefined) continue;
    if (parseQuantity(request) > parseQuantity(limit)) {
      throw new UsageError(`--requests ${name}=${request} is more than --limits ${name}=${limit}: a request must not exceed its limit`);
    }
  }
}
