import { describe, expect, it } from 'vitest';
import {
  parseDuration,
  parseEnv,
  parseNodeSelector,
  parsePort,
  parsePullPolicy,
  parseReadiness,
  validatePodName,
} from '../../../src/commands/parse/flags.js';
import { parseOutputFormat } from '../../../src/commands/parse/formats.js';
import { checkRequestsWithinLimits, parseQuantity, parseResourceList } from '../../../src/commands/parse/quantity.js';
import { UsageError } from '../../../src/errors.js';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('quantities', () => {
  it.each([
    ['100m', 0.1],
    ['1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['2.', 2],
    ['64Mi', 64 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['2G', 2e9],
    ['1k', 1000],
    ['1e3', 1000],
    ['5E-1', 0.5],
    ['0', 0],
  ])('%s = %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 9);
  });

  it.each(['', 'abc', '1.2.3', '-1', '+1', '10MB', '1mi', '1 Gi', 'm', 'Gi'])('rejects %j', (text) => {
    expect(usageMessage(() => parseQuantity(text))).toMatch(/invalid quantity/);
  });

  it('parses resource lists', () => {
    expect(parseResourceList('cpu=100m,memory=64Mi', '--requests')).toEqual({ cpu: '100m', memory: '64Mi' });
    expect(parseResourceList('example.com/gpu=1', '--limits')).toEqual({ 'example.com/gpu': '1' });
    expect(usageMessage(() => parseResourceList('cpu', '--requests'))).toMatch(/NAME=QUANTITY/);
    expect(usageMessage(() => parseResourceList('cpu=lots', '--requests'))).toMatch(/--requests cpu: invalid quantity "lots"/);
    expect(usageMessage(() => parseResourceList('cpu=1,cpu=2', '--requests'))).toMatch(/given twice/);
    expect(usageMessage(() => parseResourceList('example.com/gpu=0.5', '--limits'))).toMatch(/whole numbers/);
    expect(usageMessage(() => parseResourceList(',', '--limits'))).toMatch(/is empty/);
    expect(usageMessage(() => parseResourceList('bad name=1', '--limits'))).toMatch(/not a resource name/);
  });

  it('checks requests against limits', () => {
    expect(() => checkRequestsWithinLimits({ cpu: '100m', memory: '64Mi' }, { cpu: '1', memory: '128Mi' })).not.toThrow();
    expect(() => checkRequestsWithinLimits({ cpu: '100m' }, { memory: '1Mi' })).not.toThrow();
    expect(usageMessage(() => checkRequestsWithinLimits({ memory: '1Gi' }, { memory: '512Mi' }))).toMatch(
      /--requests memory=1Gi is more than --limits memory=512Mi/,
    );
  });
});

describe('readiness probes', () => {
  it('parses http and tcp', () => {
    expect(parseReadiness('http:8080/healthz')).toEqual({ kind: 'http', port: 8080, path: '/healthz' });
    expect(parseReadiness('http:80')).toEqual({ kind: 'http', port: 80, path: '/' });
    expect(parseReadiness('HTTP:80/a/b?c=d')).toEqual({ kind: 'http', port: 80, path: '/a/b?c=d' });
    expect(parseReadiness('tcp:5432')).toEqual({ kind: 'tcp', port: 5432 });
  });

  it.each(['http', 'http:', 'http:0/', 'http:70000/', 'tcp:80/x', 'udp:53', 'exec:true', 'http:abc/', 'http:80 /x'])('rejects %j', (text) => {
    expect(usageMessage(() => parseReadiness(text))).toMatch(/--readiness/);
  });
});

describe('env and node selectors', () => {
  it('parses env, keeping "=" in values', () => {
    expect(parseEnv(['A=1', 'B=x=y', 'EMPTY='])).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'x=y' },
      { name: 'EMPTY', value: '' },
    ]);
  });

  it.each([
    [['NOEQUALS'], /NAME=VALUE/],
    [['=x'], /NAME=VALUE/],
    [['1A=x'], /not a valid variable name/],
    [['A B=x'], /not a valid variable name/],
    [['A=1', 'A=2'], /given twice/],
  ])('rejects env %j', (entries, message) => {
    expect(usageMessage(() => parseEnv(entries))).toMatch(message);
  });

  it('parses node selectors, repeated or comma-separated', () => {
    expect(parseNodeSelector(['kubernetes.io/os=linux,disk=ssd', 'zone='])).toEqual({
      'kubernetes.io/os': 'linux',
      disk: 'ssd',
      zone: '',
    });
    expect(usageMessage(() => parseNodeSelector(['novalue']))).toMatch(/KEY=VALUE/);
    expect(usageMessage(() => parseNodeSelector(['Bad_Prefix/x=y']))).toMatch(/not a valid label key/);
    expect(usageMessage(() => parseNodeSelector(['a=-bad']))).toMatch(/not a valid label value/);
    expect(usageMessage(() => parseNodeSelector(['a=1', 'a=2']))).toMatch(/different values/);
  });
});

describe('other flags', () => {
  it.each([
    ['5m', 300_000],
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['1.5s', 1500],
  ])('duration %s', (text, ms) => {
    expect(parseDuration(text, '--timeout')).toBe(ms);
  });

  it.each(['', '0', '0s', '30', '1.5', '5 minutes', '-1m', 'm5', '5x'])('rejects duration %j', (text) => {
    expect(usageMessage(() => parseDuration(text, '--timeout'))).toMatch(/--timeout/);
  });

  it('says that a number without a unit needs one, as --fail-on does', () => {
    expect(usageMessage(() => parseDuration('90', '--timeout'))).toBe('--timeout 90: a duration needs a unit, e.g. 90s or 90ms');
  });

  it('validates ports, pull policies, formats and names', () => {
    expect(parsePort('8080', '--port')).toBe(8080);
    expect(usageMessage(() => parsePort('0', '--port'))).toMatch(/1 to 65535/);
    expect(usageMessage(() => parsePort('http', '--port'))).toMatch(/1 to 65535/);
    expect(parsePullPolicy('ifnotpresent')).toBe('IfNotPresent');
    expect(usageMessage(() => parsePullPolicy('Sometimes'))).toMatch(/Always, IfNotPresent, Never/);
    expect(parseOutputFormat('JSON')).toBe('json');
    expect(usageMessage(() => parseOutputFormat('xml'))).toMatch(/table, json, yaml/);
    expect(validatePodName('web-1.a')).toBe('web-1.a');
    for (const bad of ['Web', '-web', 'web-', 'a_b', 'x'.repeat(254), '']) {
      expect(usageMessage(() => validatePodName(bad))).toMatch(/--name/);
    }
  });
});
