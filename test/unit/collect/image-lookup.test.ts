import { describe, expect, it } from 'vitest';
import { lookupTarget, parseRegistryMirrors } from '../../../src/collect/create/image-lookup.js';
import { UsageError } from '../../../src/errors.js';

describe('where a "not found" image is asked about', () => {
  it('reads a reference as the runtime does: docker.io and library/ when it names no registry, latest when no tag', () => {
    expect(lookupTarget('nginx', {})).toEqual({ image: 'nginx', registry: 'docker.io', repository: 'library/nginx', tag: 'latest', base: 'https://registry-1.docker.io' });
    expect(lookupTarget('podtrace/big:2', {})).toMatchObject({ registry: 'docker.io', repository: 'podtrace/big', tag: '2' });
    expect(lookupTarget('127.0.0.1:5000/podtrace/crash:x', {})).toMatchObject({ registry: '127.0.0.1:5000', repository: 'podtrace/crash', tag: 'x', base: 'https://127.0.0.1:5000' });
    expect(lookupTarget('localhost/app', {})).toMatchObject({ registry: 'localhost', repository: 'app', tag: 'latest' });
    expect(lookupTarget(`quay.io/a/b@sha256:${'0'.repeat(64)}`, {})).toEqual({ image: `quay.io/a/b@sha256:${'0'.repeat(64)}`, registry: 'quay.io', repository: 'a/b', base: 'https://quay.io' });
  });

  it('asks the mirror the nodes pull through, when told of one', () => {
    const mirrors = parseRegistryMirrors(' docker.io=http://127.0.0.1:5000/ , quay.io=https://mirror.example:8443');
    expect(mirrors).toEqual({ 'docker.io': 'http://127.0.0.1:5000', 'quay.io': 'https://mirror.example:8443' });
    expect(lookupTarget('nginx:1', mirrors)?.base).toBe('http://127.0.0.1:5000');
    expect(lookupTarget('quay.io/x/y', mirrors)?.base).toBe('https://mirror.example:8443');
    expect(lookupTarget('ghcr.io/x/y', mirrors)?.base).toBe('https://ghcr.io');
    expect(parseRegistryMirrors(undefined)).toEqual({});
  });

  it.each(['docker.io', 'docker.io=', 'docker.io=127.0.0.1:5000', 'docker.io=http://host/path', '=http://x'])('PODTRACE_REGISTRY_MIRRORS=%s is a one-line usage error', (value) => {
    expect(() => parseRegistryMirrors(value)).toThrow(UsageError);
    expect(() => parseRegistryMirrors(value)).toThrow(/^PODTRACE_REGISTRY_MIRRORS: ".*" is not REGISTRY=http\(s\):\/\/HOST\[:PORT\]/);
  });

  it('refuses a mirror address with credentials, and does not repeat them', () => {
    expect(() => parseRegistryMirrors('docker.io=http://user:s3cret@127.0.0.1:5000')).toThrow(UsageError);
    expect(() => parseRegistryMirrors('docker.io=http://user:s3cret@127.0.0.1:5000')).toThrow(/^PODTRACE_REGISTRY_MIRRORS: "docker\.io=\(an address with credentials\)"/);
    expect(() => parseRegistryMirrors('docker.io=http://user:s3cret@127.0.0.1:5000')).not.toThrow(/s3cret/);
  });
});
