import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCLI, main } from '../../../src/cli.js';
import { EXIT } from '../../../src/exit-codes.js';
import { FakeCluster, memoryStream } from './fake-kube.js';

const dir = mkdtempSync(path.join(tmpdir(), 'podtrace-cli-'));
const file = (name: string, content: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};
const goodPod = file('pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n');
const deployment = file('deploy.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n');
const twoDocs = file('two.yaml', 'apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\n');
const badYaml = file('bad.yaml', 'apiVersion: v1\nkind: Pod\nspec: [\n');
const badImage = file('badimage.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: NGINX\n');
const noContainers = file('empty-spec.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n');
const otherNs = file('ns.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: team-a\nspec:\n  containers:\n  - name: web\n    image: nginx\n');

async function runCli(argv: string[], cluster = new FakeCluster()) {
  const stdout = memoryStream();
  const stderr = memoryStream();
  const code = await main(argv, { stdout, stderr, env: {}, kube: cluster.factory, cwd: dir });
  return { code, stdout: stdout.text(), stderr: stderr.text(), cluster };
}

describe('create: every bad input is one line, its exit code, and no API call', () => {
  it.each([
    [['create'], /needs an IMAGE .* or -f pod.yaml/],
    [['create', 'NGINX'], /invalid image reference "NGINX": repository names must be lowercase \(try "nginx"\)/],
    [['create', 'nginx:'], /tag after ":" is empty/],
    [['create', 'a b'], /whitespace/],
    [['create', 'nginx@sha256:short'], /sha256 digest is 64 lowercase hex digits/],
    [['create', 'nginx', '--name', 'Web_1'], /--name "Web_1": a pod name is lowercase/],
    [['create', 'nginx', '-n', 'Bad_NS'], /-n "Bad_NS": a namespace is lowercase/],
    [['create', 'nginx', '--requests', 'cpu=lots'], /--requests cpu: invalid quantity "lots"/],
    [['create', 'nginx', '--limits', 'memory'], /--limits "memory": each entry must be NAME=QUANTITY/],
    [['create', 'nginx', '--requests', 'memory=1Gi', '--limits', 'memory=1Mi'], /is more than --limits memory=1Mi/],
    [['create', 'nginx', '--readiness', 'http:abc'], /--readiness http:abc: write http:PORT\/PATH/],
    [['create', 'nginx', '--port', '0'], /--port 0: a port is a number from 1 to 65535/],
    [['create', 'nginx', '--env', 'NOVALUE'], /--env NOVALUE: write NAME=VALUE/],
    [['create', 'nginx', '--node-selector', 'x'], /--node-selector x: write KEY=VALUE/],
    [['create', 'nginx', '--pull-policy', 'Sometimes'], /--pull-policy Sometimes: use one of Always, IfNotPresent, Never/],
    [['create', 'nginx', '--timeout', 'soon'], /--timeout soon: not a duration/],
    [['create', 'nginx', '--timeout', '30d'], /--timeout 30d: not a duration/],
    [['create', 'nginx', '--timeout', '25h'], /--timeout 25h: at most 24h/],
    [['create', 'nginx', '-o', 'xml'], /-o xml: unknown output format/],
    [['create', 'nginx', '--command'], /--command needs the command after "--"/],
    [['create', 'nginx', '--out', dir], /--out .* is a directory/],
    [['create', 'nginx', '--bogus'], /unknown option '--bogus' .*\(see podtrace create --help\)/],
    [['create', 'nginx', '--observe', 'a while'], /--observe a while: not a duration/],
    [['create', 'nginx', '--observe', '2h'], /--observe 2h: at most 1h/],
    [['create', 'nginx', '--logs', '0'], /--logs 0: a whole number of lines from 1 to 10000/],
    [['create', 'nginx', '--logs', 'all'], /--logs all: a whole number of lines/],
    [['create', 'nginx', 'extra'], /too many arguments .*\(see podtrace create --help\)/],
    [['create', '-f', goodPod, 'nginx'], /-f cannot be combined with IMAGE: put those in the manifest/],
    [['create', '-f', goodPod, '--env', 'A=1', '--port', '80'], /-f cannot be combined with --port, --env/],
    [['create', '-f', goodPod, '--command', '--', 'sleep', '1'], /-f cannot be combined with --command, -- ARGS/],
    [['create', '-f', path.join(dir, 'missing.yaml')], /-f .*missing.yaml: file not found/],
    [['create', '-f', deployment], /must be a Pod \(apiVersion: v1, kind: Pod\), found apps\/v1\/Deployment/],
    [['create', '-f', twoDocs], /holds 2 YAML documents/],
    [['create', '-f', badYaml], /not valid YAML/],
    [['create', '-f', badImage], /container "web": invalid image reference "NGINX"/],
    [['create', '-f', noContainers], /spec.containers must list at least one container/],
    [['create', '-f', otherNs, '-n', 'team-b'], /-n team-b does not match metadata.namespace "team-a"/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['create', 'nginx', '--expose', 'http'], /--expose http: a port is a number from 1 to 65535/],
    [['create', 'nginx', '--name', '1web', '--expose', '80'], /--expose: the Service takes the pod's name, and "1web" is not a Service name/],
    [['create', 'nginx', '--reach-from', 'pod'], /--reach-from goes with --expose PORT/],
    [['create', 'nginx', '--reach-image', 'podtrace/reach:1'], /--reach-image goes with --expose PORT/],
    [['create', 'nginx', '--expose', '80', '--reach-from', 'node'], /--reach-from "node": give client, pod or client,pod/],
    [['create', 'nginx', '--expose', '80', '--reach-from', 'pod,pod'], /--reach-from "pod,pod": give client, pod or client,pod/],
    [['create', 'nginx', '--expose', '80', '--reach-from', 'client', '--reach-image', 'x/y:1'], /--reach-image is the probe pod's image: drop it, or add pod to --reach-from/],
    [['create', 'nginx', '--expose', '80', '--reach-image', 'Not An Image'], /--reach-image|invalid image reference/],
    [['watch'], /podtrace watch needs -l SELECTOR/],
    [['watch', '-l', 'app=web;rm'], /-l "app=web;rm": not a label selector/],
    [['watch', '-l', 'app=web', '--for', 'ever'], /--for ever: not a duration/],
    [['watch', '-l', 'app=web', '--for', '48h'], /--for 48h: at most 24h/],
    [['watch', '-l', 'app=web', '--count', '0'], /--count 0: a whole number of pods, 1 or more/],
    [['watch', '-l', 'app=web', '-n', 'Bad_NS'], /-n "Bad_NS": a namespace is lowercase/],
    [['watch', '-l', 'app=web', 'extra'], /too many arguments/],
    [['inspect'], /missing required argument 'pod' \(see podtrace inspect --help\)/],
    [['probe', 'nginx', '--every', '100ms'], /--every 100ms: at least 1s \(a round is a whole pod start and teardown\)/],
    [['probe', 'nginx', '--every', 'often'], /--every often: not a duration/],
    [['probe', 'nginx', '--listen', 'localhost'], /--listen localhost: give HOST:PORT or :PORT, e.g. --listen :9464/],
    [['probe', 'nginx', '--listen', ':99999'], /--listen :99999: give HOST:PORT or :PORT/],
    [['probe', 'nginx', '--history', '0'], /--history 0: a whole number of traces from 1 to 1000/],
    [['probe', 'NGINX'], /invalid image reference "NGINX"/],
    [['inspect', 'Web_1'], /POD "Web_1": a pod name is lowercase/],
    [['inspect', 'web', '-n', 'Bad_NS'], /-n "Bad_NS": a namespace is lowercase/],
    [['inspect', 'web', '-o', 'xml'], /-o xml: unknown output format/],
    [['inspect', 'web', '--', 'x'], /inspect takes no arguments after --/],
  ])('%j', async (argv, message) => {
    const { code, stdout, stderr, cluster } = await runCli(argv);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^podtrace: /);
    expect(cluster.factoryRequests).toEqual([]);
    expect(cluster.calls).toEqual([]);
  });

  it('prints a stack trace only with --debug or PODTRACE_DEBUG=1', async () => {
    const failing = {
      factory: async (): Promise<never> => {
        throw new Error('kaboom');
      },
    };
    const plain = memoryStream();
    expect(await main(['create', 'nginx'], { stdout: memoryStream(), stderr: plain, env: {}, kube: failing.factory })).toBe(EXIT.internal);
    expect(plain.text()).toMatch(/^podtrace: internal error: kaboom \(this is a podtrace bug; rerun with --debug/);
    expect(plain.text().trimEnd().split('\n')).toHaveLength(1);

    const debug = memoryStream();
    await main(['create', 'nginx', '--debug'], { stdout: memoryStream(), stderr: debug, env: {}, kube: failing.factory });
    expect(debug.text()).toMatch(/at .*create/);
    const viaEnv = memoryStream();
    await main(['create', 'nginx'], { stdout: memoryStream(), stderr: viaEnv, env: { PODTRACE_DEBUG: '1' }, kube: failing.factory });
    expect(viaEnv.text().split('\n').length).toBeGreaterThan(2);
  });
});

describe('createCLI parses without running', () => {
  const cli = () => createCLI({ stdout: memoryStream(), stderr: memoryStream(), env: {} });

  it('maps flags, repeatable options and words after --', () => {
    const parsed = cli().parse([
      'create', 'busybox', '--name', 'b1', '-n', 'demo', '--env', 'A=1', '--env', 'B=2', '--node-selector', 'disk=ssd',
      '--keep', '-o', 'json', '--timeout', '90s', '--command', '--', 'sh', '-c', 'sleep 3600',
    ]);
    expect(parsed).toMatchObject({
      command: 'create',
      input: {
        image: 'busybox',
        args: ['sh', '-c', 'sleep 3600'],
        options: {
          name: 'b1', namespace: 'demo', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], nodeSelector: { disk: 'ssd' }, keep: true,
          output: 'json', timeoutMs: 90_000, command: true, quiet: false,
        },
      },
    });
  });

  it('has defaults', () => {
    const parsed = cli().parse(['create', 'nginx']);
    expect(parsed).toEqual({
      command: 'create',
      debug: false,
      input: {
        image: 'nginx',
        args: [],
        options: { env: [], command: false, nodeSelector: {}, perNode: false, timeoutMs: 300_000, keep: false, output: 'table', quiet: false, gates: [], metrics: true, debug: false },
      },
    });
  });

  it('parses inspect', () => {
    expect(cli().parse(['inspect', 'web-1', '-n', 'shop', '--context', 'kind', '-o', 'json', '--out', 'w.json'])).toEqual({
      command: 'inspect',
      pod: 'web-1',
      options: { namespace: 'shop', context: 'kind', output: 'json', out: 'w.json', debug: false },
      debug: false,
    });
  });

  it('parses replay and help', () => {
    expect(cli().parse(['replay', 'run.ndjson', '-o', 'yaml'])).toMatchObject({ command: 'replay', file: 'run.ndjson', options: { output: 'yaml' } });
    const stdout = memoryStream();
    expect(createCLI({ stdout, stderr: memoryStream(), env: {} }).parse(['--help'])).toEqual({ command: 'none', exitCode: 0 });
    expect(stdout.text()).toMatch(/Usage: podtrace/);
    const stderr = memoryStream();
    expect(createCLI({ stdout: memoryStream(), stderr, env: {} }).parse([])).toEqual({ command: 'none', exitCode: EXIT.usage });
    expect(stderr.text()).toMatch(/Commands:/);
  });
});
