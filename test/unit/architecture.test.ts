/**
 * ARCHITECTURE.md's rules, checked on the source: every import goes down the
 * layers (never up), only the cluster API knows REST paths, the reconstruction
 * and analysis layers touch no I/O, and no file grows past ~400 lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Each layer and the layers it may import from (itself included). */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  'exit-codes': [],
  errors: ['exit-codes'],
  trace: ['exit-codes', 'trace'],
  analysis: ['exit-codes', 'trace', 'analysis'],
  report: ['exit-codes', 'trace', 'analysis', 'report'],
  kube: ['exit-codes', 'errors', 'kube'],
  collect: ['exit-codes', 'errors', 'kube', 'trace', 'collect'],
  commands: ['exit-codes', 'errors', 'kube', 'trace', 'analysis', 'report', 'collect', 'commands'],
  cli: ['exit-codes', 'errors', 'collect', 'commands', 'cli'],
};

/** Layers that only compute: no file system, network, process or clock. */
const PURE_LAYERS = ['trace', 'analysis', 'report'];
const IMPURE_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|child_process|process|os)$/;

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function layerOf(file: string): string {
  const relative = path.relative(SRC, file);
  const [first] = relative.split(path.sep);
  if (relative === 'cli.ts') return 'cli';
  return first!.replace(/\.ts$/, '');
}

/** Static and dynamic import specifiers, type-only ones included (they are arrows too). */
function importsOf(text: string): string[] {
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)];
  return specifiers.map((m) => m[1]!);
}

const files = sourceFiles().map((file) => ({ file, name: path.relative(SRC, file), layer: layerOf(file), text: readFileSync(file, 'utf8') }));

describe('the architecture', () => {
  it('knows every layer of src/', () => {
    expect([...new Set(files.map((f) => f.layer))].sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });

  it.each(files.map((f) => [f.name, f] as const))('%s imports only from layers below it', (_, f) => {
    const upward = importsOf(f.text)
      // the package's own version is read from package.json
      .filter((s) => s.startsWith('.') && !s.endsWith('/package.json'))
      .map((s) => ({ s, layer: layerOf(path.resolve(path.dirname(f.file), s.replace(/\.js$/, '.ts'))) }))
      .filter(({ layer }) => !MAY_IMPORT[f.layer]!.includes(layer))
      .map(({ s, layer }) => `${s} (${layer})`);
    expect(upward).toEqual([]);
  });

  it('what the CLI loads before a command runs (--help, a bad flag) is the option tables and their parsers: no renderer, diff or cluster client', () => {
    // static value imports only: type-only ones are erased, dynamic ones load when a command runs
    const valueImports = (text: string) => [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+'(\.[^']+)'/g)].map((m) => m[1]!);
    const byFile = new Map(files.map((f) => [f.file, f]));
    const loaded = new Set<string>();
    const stack = [path.join(SRC, 'cli.ts')];
    while (stack.length > 0) {
      const file = stack.pop()!;
      if (loaded.has(file) || !byFile.has(file)) continue;
      loaded.add(file);
      for (const s of valueImports(byFile.get(file)!.text)) stack.push(path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
    }
    const names = [...loaded].map((f) => path.relative(SRC, f));
    expect(names).toContain('commands/option-tables.ts');
    expect(names.filter((n) => /^(kube\/|report\/(?!formats\.ts)|analysis\/(diff|bootstrap|runset)\.ts|collect\/(?!observation-log\.ts))/.test(n))).toEqual([]);
  });

  it('the pure layers use no file system, network, process or clock', () => {
    const offending = files
      .filter((f) => PURE_LAYERS.includes(f.layer))
      .flatMap((f) => [
        ...importsOf(f.text).filter((s) => IMPURE_MODULES.test(s)).map((s) => `${f.name}: imports ${s}`),
        ...(/\b(Date\.now\(|performance\.now\(|new Date\(\)|process\.(env|argv|cwd|exit|stdout|stderr|hrtime))/.test(f.text) ? [`${f.name}: reads a clock or the process`] : []),
      ]);
    expect(offending).toEqual([]);
  });

  it('builds REST paths only in the cluster API (Kubernetes) and the Jaeger client', () => {
    const owner: Record<string, string> = { kubernetes: path.join('kube', 'cluster-api.ts'), jaeger: path.join('collect', 'jaeger.ts') };
    const kubernetes = /['`]\/(api\/v1|apis)\//;
    const jaeger = /['`]\/api\/(v3|traces)/;
    expect(files.filter((f) => f.name !== owner['kubernetes'] && kubernetes.test(f.text)).map((f) => f.name)).toEqual([]);
    expect(files.filter((f) => f.name !== owner['jaeger'] && jaeger.test(f.text)).map((f) => f.name)).toEqual([]);
  });

  it('keeps every file under ~400 lines', () => {
    const long = files.map((f) => ({ name: f.name, lines: f.text.split('\n').length })).filter((f) => f.lines > 420);
    expect(long).toEqual([]);
  });
});
