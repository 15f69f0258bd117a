// Bundles the CLI into dist/: dist/cli.js is the entry, and every lazily
// imported command (with @kubernetes/client-node) lands in its own chunk, so
// `podtrace --help` loads only commander and the CLI itself.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

const result = await build({
  plugins: [generatedCodeIsPure, undiciAsUsed],
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
