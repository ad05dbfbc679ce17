import * as fs from 'fs';
import * as path from 'path';

/**
 * The module rules of src/ (README, "Contributing"): no import cycles between
 * files; handler code never imports construct code; capability folders only
 * import folders below them in one fixed order.
 */
const SRC = path.join(__dirname, '..', 'src');

function sourceFiles(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Relative imports of a file (type-only imports count: a type still ties two modules together). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/g)].map((m) => m[1]);
  return specs.map((spec) => {
    const base = path.resolve(path.dirname(file), spec);
    for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    throw new Error(`${path.relative(SRC, file)} imports '${spec}', which does not resolve`);
  });
}

const files = sourceFiles();
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => path.relative(SRC, f);
const folderOf = (f: string) => rel(f).split(path.sep)[0];
const isRuntime = (f: string) => f.endsWith('.lambda.ts') || rel(f).split(path.sep).includes('runtime');

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(nodes: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of nodes.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (nodes.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of nodes.keys()) if (!indices.has(v)) visit(v);
  return found;
}

/**
 * Capability folders from the bottom up: a folder may import only folders
 * before it. `contract` and `internal` are the neutral base; `index.ts`
 * (the package entry) may import anything.
 */
const LAYERS = ['contract', 'internal', 'cost', 'testing', 'network', 'job', 'ledger', 'service', 'workflow', 'tracking', 'dispatch', 'monitoring'];

describe('module structure of src/', () => {
  test('the checker sees every file and every import (it fails on an import it cannot resolve)', () => {
    expect(files.length).toBeGreaterThan(40);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
  });

  test('no import cycles between files, direct or through others', () => {
    expect(cycles(graph).map((c) => c.map(rel))).toEqual([]);
  });

  test('the cycle finder finds a cycle when there is one', () => {
    const planted = new Map(graph);
    const [a, b] = [path.join(SRC, 'job', 'job-field.ts'), path.join(SRC, 'dispatch', 'job-dispatcher.ts')];
    planted.set(a, [...graph.get(a)!, b]);
    expect(cycles(planted).length).toBeGreaterThan(0);
  });

  test('handler code (*.lambda.ts, runtime/) imports only handler code and the contract', () => {
    const bad = files.filter(isRuntime).flatMap((f) => graph.get(f)!
      .filter((to) => !isRuntime(to) && folderOf(to) !== 'contract')
      .map((to) => `${rel(f)} → ${rel(to)}`));
    expect(bad).toEqual([]);
  });

  test('the contract imports nothing but itself', () => {
    const bad = files.filter((f) => folderOf(f) === 'contract').flatMap((f) => graph.get(f)!
      .filter((to) => folderOf(to) !== 'contract').map((to) => `${rel(f)} → ${rel(to)}`));
    expect(bad).toEqual([]);
  });

  test('every folder is placed in the layers, and imports only folders below it', () => {
    const folders = new Set(files.filter((f) => path.dirname(f) !== SRC).map(folderOf));
    expect([...folders].filter((f) => !LAYERS.includes(f))).toEqual([]);
    const upward = files.filter((f) => path.dirname(f) !== SRC).flatMap((f) => graph.get(f)!
      .filter((to) => folderOf(to) !== folderOf(f) && LAYERS.indexOf(folderOf(to)) > LAYERS.indexOf(folderOf(f)))
      .map((to) => `${rel(f)} → ${rel(to)}`));
    expect(upward).toEqual([]);
  });
});
