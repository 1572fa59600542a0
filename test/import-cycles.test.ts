// No import cycles in src/ or web/src/: a cycle makes a module's exports undefined during its
// peers' evaluation, depending on which one is loaded first, and it blurs which layer depends on
// which (issue 17). Reads every .ts/.tsx file, follows its relative imports and re-exports (type
// imports included, as madge does), and reports every strongly connected component.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm;
const DYNAMIC_RE = /import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist') {
      sources(path, out);
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The file an import specifier names: `./x.js` is `./x.ts` or `./x.tsx`, a folder its index. */
function target(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function graph(files: readonly string[]): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(IMPORT_RE), ...text.matchAll(DYNAMIC_RE)].map((m) => m[1]!);
    edges.set(
      file,
      specs.map((s) => target(file, s)).filter((t): t is string => t !== null),
    );
  }
  return edges;
}

/** Tarjan's strongly connected components of more than one file (or a file importing itself). */
function cycles(edges: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component);
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('imports', () => {
  it('form no cycle in src/ or web/src/', () => {
    const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'web', 'src'))];
    assert.ok(files.length > 100, `only ${files.length} files found`);
    const found = cycles(graph(files)).map((c) => c.map((f) => relative(ROOT, f)).sort());
    assert.deepEqual(found, [], 'import cycles');
  });

  it('the check sees a cycle when there is one', () => {
    const a = join(ROOT, 'a.ts');
    const b = join(ROOT, 'b.ts');
    const c = join(ROOT, 'c.ts');
    const found = cycles(
      new Map([
        [a, [b]],
        [b, [c]],
        [c, [a]],
      ]),
    );
    assert.deepEqual(
      found.map((x) => x.length),
      [3],
    );
  });
});
