/**
 * The source tree's import graph: every arrow points one way. A cycle means that types or helpers
 * live next to one of their consumers instead of in a file of their own.
 */
import { readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

const SRC = join(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The files of src/ that `file` imports by a relative path (type-only imports included). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^;]*?from '(\.[^']*)'/gms)].map((m) => {
    const target = resolve(dirname(file), m[1]);
    for (const candidate of [`${target}.ts`, join(target, 'index.ts')]) {
      try {
        if (statSync(candidate).isFile()) {
          return candidate;
        }
      } catch {
        // not this one
      }
    }
    throw new Error(`${relative(SRC, file)} imports ${m[1]}, which is not a source file`);
  });
}

/** One import cycle of the graph as a list of files, or undefined when there is none. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === 'done') {
      return undefined;
    }
    if (state.get(file) === 'open') {
      return [...stack.slice(stack.indexOf(file)), file];
    }
    state.set(file, 'open');
    stack.push(file);
    for (const target of graph.get(file) ?? []) {
      const cycle = visit(target);
      if (cycle) {
        return cycle;
      }
    }
    stack.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) {
      return cycle;
    }
  }
  return undefined;
}

describe('the import graph of src/', () => {
  test('GIVEN every source file WHEN its relative imports are followed THEN no file reaches itself', () => {
    const graph = new Map(sourceFiles(SRC).map((file) => [file, importsOf(file)]));
    expect(graph.size).toBeGreaterThan(20);
    const cycle = findCycle(graph);
    expect(cycle?.map((file) => relative(SRC, file)).join(' -> ')).toBeUndefined();
  });

  // The folders are the parts: the construct library (constructs/, through index.ts), the program
  // that runs in pods (program/), the CLIs (lint/, doctor/, mcp/) and what they share (shared/).
  const ALLOWED: Record<string, string[]> = {
    shared: ['shared'],
    program: ['program'],
    constructs: ['constructs', 'shared'],
    lint: ['lint', 'shared'],
    doctor: ['doctor', 'lint', 'shared'],
    mcp: ['mcp', 'doctor', 'lint', 'shared'],
  };
  const partOf = (file: string) => relative(SRC, file).split('/')[0];
  // The package's one bin (`cdk8s-migrated-service lint|doctor|mcp`) dispatches to each CLI.
  const BIN = 'lint/cli.ts';

  test.each(Object.keys(ALLOWED))('GIVEN the files of src/%s THEN they import only the parts it may build on', (part) => {
    const files = sourceFiles(join(SRC, part));
    expect(files.length).toBeGreaterThan(0);
    const crossings = files.flatMap((file) => importsOf(file)
      .filter((target) => !ALLOWED[part].includes(partOf(target)) && !(relative(SRC, file) === BIN && ['doctor', 'mcp'].includes(partOf(target))))
      .map((target) => `${relative(SRC, file)} -> ${relative(SRC, target)}`));
    expect(crossings).toEqual([]);
  });

  test('GIVEN src/ THEN its only file is the public entry, and every other file lives in one of the parts', () => {
    const top = readdirSync(SRC).filter((entry) => !statSync(join(SRC, entry)).isDirectory() && entry.endsWith('.ts'));
    expect(top).toEqual(['index.ts']);
    expect(readdirSync(SRC).filter((entry) => statSync(join(SRC, entry)).isDirectory()).sort()).toEqual(Object.keys(ALLOWED).sort());
    expect(importsOf(join(SRC, 'index.ts')).every((target) => partOf(target) === 'constructs')).toBe(true);
  });

  test('GIVEN a graph with a cycle WHEN it is searched THEN the cycle is found', () => {
    // The checker itself must be able to fail.
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', []]]);
    expect(findCycle(graph)).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b']], ['b', []]]))).toBeUndefined();
  });
});
