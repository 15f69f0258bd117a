import { describe, expect, it } from 'vitest';
import { imageBasename, parseImageReference } from '../../../src/commands/parse/image-reference.js';
import { UsageError } from '../../../src/errors.js';

describe('parseImageReference', () => {
  it.each([
    ['nginx', { path: 'nginx' }],
    ['nginx:1.27', { path: 'nginx', tag: '1.27' }],
    ['library/nginx:latest', { path: 'library/nginx', tag: 'latest' }],
    ['docker.io/library/nginx', { domain: 'docker.io', path: 'library/nginx' }],
    ['localhost/app', { domain: 'localhost', path: 'app' }],
    ['127.0.0.1:5000/team/app:v2', { domain: '127.0.0.1:5000', path: 'team/app', tag: 'v2' }],
    ['registry.example.com:443/a/b/c', { domain: 'registry.example.com:443', path: 'a/b/c' }],
    ['[::1]:5000/app', { domain: '[::1]:5000', path: 'app' }],
    ['my_app__x-y.z', { path: 'my_app__x-y.z' }],
    [`nginx@sha256:${'a'.repeat(64)}`, { path: 'nginx', digest: `sha256:${'a'.repeat(64)}` }],
    [`nginx:1.27@sha256:${'0'.repeat(64)}`, { path: 'nginx', tag: '1.27', digest: `sha256:${'0'.repeat(64)}` }],
    ['Registry.Example.com/app', { domain: 'Registry.Example.com', path: 'app' }],
  ])('accepts %s', (raw, expected) => {
    expect(parseImageReference(raw)).toEqual({ raw, ...expected });
  });

  it.each([
    ['NGINX', /must be lowercase \(try "nginx"\)/],
    ['nginx:', /tag after ":" is empty/],
    ['a b', /whitespace/],
    ['nginx@sha256:short', /64 lowercase hex digits/],
    ['nginx@sha256', /digest after "@"/],
    ['', /empty/],
    [':latest', /repository name is empty/],
    ['nginx:-bad', /tag "-bad"/],
    [`nginx:${'x'.repeat(129)}`, /tag/],
    ['foo//bar', /empty component/],
    ['foo/', /empty component/],
    ['-nginx', /not a valid repository name component/],
    ['nginx-', /not a valid repository name component/],
    ['my..app', /not a valid repository name component/],
    ['host:port/app', /port "port" is not a number/],
    ['bad_host.com/app', /registry "bad_host.com"/],
    [`${'a'.repeat(256)}`, /longer than 255/],
  ])('rejects %j', (raw, message) => {
    let error: unknown;
    try {
      parseImageReference(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('names the basename', () => {
    expect(imageBasename(parseImageReference('127.0.0.1:5000/team/my_app:v2'))).toBe('my_app');
    expect(imageBasename(parseImageReference('nginx'))).toBe('nginx');
  });
});
