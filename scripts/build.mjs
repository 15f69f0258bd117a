// Bundles the CLI into dist/: dist/cli.js is the entry, and every lazily
// imported command (with @kubernetes/client-node) lands in its own chunk, so
// `podtrace --help` loads only commander and the CLI itself.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const requireBuiltin = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');

await rm(outdir, { recursive: true, force: true });

/**
 * client-node's generated code (every API class and model) has no side effects
 * on import, but its package does not say so: saying it lets esbuild drop the
 * megabytes podtrace never calls (it makes plain requests, see src/kube/client.ts).
 */
const generatedCodeIsPure = {
  name: 'client-node-generated-code-is-pure',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.resolving) return undefined;
      const resolved = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, importer: args.importer, pluginData: { resolving: true } });
      if (resolved.errors.length > 0) return undefined;
      return resolved.path.includes(`${path.sep}@kubernetes${path.sep}client-node${path.sep}dist${path.sep}gen${path.sep}`) ? { ...resolved, sideEffects: false } : resolved;
    });
  },
};

/**
 * undici's own entry loads all of undici at once (its mock agents, caches, WebSocket, EventSource
 * and more: 1.3 MB); the bundle uses three of its exports (client-node's fetch, Agent and
 * ProxyAgent) and the request methods every dispatcher gets. 'undici' resolves to a module that
 * loads only those, from undici's own files, so the Kubernetes client loads faster. It is ESM so
 * that a named import it does not provide fails the build rather than being undefined at run time.
 */
const undiciAsUsed = {
  name: 'undici-as-used',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', namespace: 'undici-as-used' }));
    b.onLoad({ filter: /.*/, namespace: 'undici-as-used' }, () => ({
      resolveDir: path.join(root, 'node_modules', 'undici'),
      loader: 'js',
      contents: [
        "import Dispatcher from './lib/dispatcher/dispatcher.js';",
        "import api from './lib/api/index.js';",
        "import AgentClass from './lib/dispatcher/agent.js';",
        "import ProxyAgentClass from './lib/dispatcher/proxy-agent.js';",
        "import web from './lib/web/fetch/index.js';",
        // what undici's entry does for every dispatcher: request(), stream(), pipeline() ...
        'Object.assign(Dispatcher.prototype, api);',
        'export const Agent = AgentClass;',
        'export const ProxyAgent = ProxyAgentClass;',
        'export function fetch(input, init) { return web.fetch(input, init); }',
      ].join('\n'),
    }));
  },
};

/**
 * An ESM import of a Node built-in reads every export of it once, getters included: importing
 * node:http loads Node's own copy of undici (for http.WebSocket), node:process opens stdin, and so
 * on (~25 ms of a `create` before its first request). A built-in imported by the bundle is
 * required instead, and a module made of its plain exports (no getters) stands for it. The bundle
 * imports no getter by name today; one that did would fail the build (no such export) rather
 * than be undefined.
 */
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) =>
      args.kind === 'import-statement' && builtins.has(args.path) ? { path: args.path.replace(/^node:/, ''), namespace: 'builtin-by-require' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin-by-require' }, ({ path: name }) => {
      const exported = requireBuiltin(name);
      const plain = Object.entries(Object.getOwnPropertyDescriptors(exported))
        .filter(([key, d]) => /^[A-Za-z_$][\w$]*$/.test(key) && key !== 'default' && 'value' in d)
        .map(([key]) => key);
      return {
        loader: 'js',
        contents: [`const m = require(${JSON.stringify(`node:${name}`)});`, 'export default m;', ...plain.map((key) => `export const ${key} = m.${key};`)].join('\n'),
      };
    });
  },
};

/**
 * client-node imports its SOCKS proxy support (socks, socks-proxy-agent, ip-address: ~180 KB) at
 * load, for a kubeconfig whose cluster has a socks5:// proxy-url. Each name it imports from them
 * stands for the real one, loaded the first time it is constructed or one of its members is read.
 */
const LOADED_ON_USE = { socks: ['SocksClient'], 'socks-proxy-agent': ['SocksProxyAgent'] };
const loadedOnUse = {
  name: 'loaded-on-use',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${Object.keys(LOADED_ON_USE).join('|')})$`) }, (args) =>
      args.kind === 'import-statement' ? { path: args.path, namespace: 'loaded-on-use', pluginData: { resolveDir: args.resolveDir } } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'loaded-on-use' }, ({ path: name, pluginData }) => ({
      loader: 'js',
      resolveDir: pluginData.resolveDir,
      contents: [
        `let real;`,
        `const load = () => (real ??= require(${JSON.stringify(name)}));`,
        ...LOADED_ON_USE[name].map(
          (key) =>
            `export const ${key} = new Proxy(function ${key}() {}, { get: (_, k) => Reflect.get(load().${key}, k), construct: (_, args) => Reflect.construct(load().${key}, args) });`,
        ),
      ].join('\n'),
    }));
  },
};

const result = await build({
  plugins: [generatedCodeIsPure, undiciAsUsed, builtinsByRequire, loadedOnUse],
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // Bundled CommonJS dependencies call require(); ESM output has none, so give each file one.
  banner: {
    js: "import { createRequire as __podtraceCreateRequire } from 'node:module'; const require = __podtraceCreateRequire(import.meta.url);",
  },
});

const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const entry = outputs.find(([file]) => file.endsWith('dist/cli.js'));
const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
console.log(`built dist/cli.js (${kb(entry?.[1].bytes ?? 0)}) and ${outputs.length - 1} chunks (${kb(outputs.reduce((n, [, o]) => n + o.bytes, 0))} in all)`);
