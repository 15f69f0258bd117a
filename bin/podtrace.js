#!/usr/bin/env node
// The Kubernetes client (undici) needs Node 22.22 or later; say so rather than fail deep inside it.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(`podtrace: needs Node.js 22.22 or later, and this is ${process.version}: install a newer Node (hack/setup.sh does)\n`);
  process.exit(1);
}

// Built-ins come from process.getBuiltinModule, not an import: an ESM import of one reads all its
// exports, getters too (node:fs's streams), which costs milliseconds on every start.
const { existsSync } = process.getBuiltinModule('node:fs');
const module = process.getBuiltinModule('node:module');
const { fileURLToPath } = process.getBuiltinModule('node:url');

// V8 keeps the compiled bundle on disk (in the OS temp dir): later starts skip parsing the
// Kubernetes client. Best effort: a read-only or missing cache only costs the parse.
try {
  module.enableCompileCache?.();
} catch {
  // no cache this time
}

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('podtrace: dist/cli.js is missing: run `npm run build` in the podtrace directory first\n');
  process.exit(1);
}

// A reader that went away (`podtrace --help | head`) only ends the output: the run goes on to its
// teardown (a pod is never left for a closed pipe), and nothing prints a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// Everything is written and the pod cleaned up by now. Idle keep-alive sockets (undici keeps them
// for seconds) must not hold the exit: once stdout and stderr have flushed what was written, exit.
const flushed = (stream) => new Promise((resolve) => stream.write('', () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
