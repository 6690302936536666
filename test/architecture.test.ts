/**
 * The source tree's import graph: every arrow points one way. A cycle means that types or helpers
 * live next to one of their consumers instead of in a file of their own.
 */
import { readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

const SRC = join(__dirname, '..', 'src');
/** The command line's sources: a package of its own, which builds on the library. */
const CLI_SRC = join(__dirname, '..', 'packages', 'cli', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier `text` imports, by `import`, `export … from` or `require` (type-only imports included). */
function specifiersIn(text: string): string[] {
  return [...text.matchAll(/^(?:import|export)\b[^;]*?from '([^']*)'|\brequire\('([^']*)'\)/gms)].map((m) => m[1] ?? m[2]);
}

/** The source files that `text`, the text of `file`, imports by a relative path, by `import`, `export … from` or `require` (type-only imports included). */
function importsIn(file: string, text: string): string[] {
  return specifiersIn(text).filter((spec) => spec.startsWith('.')).map((spec) => {
    const target = resolve(dirname(file), spec);
    for (const candidate of [`${target}.ts`, join(target, 'index.ts')]) {
      try {
        if (statSync(candidate).isFile()) {
          return candidate;
        }
      } catch {
        // not this one
      }
    }
    throw new Error(`${relative(SRC, file)} imports ${spec}, which is not a source file`);
  });
}

/** The source files `file` imports by a relative path. */
function importsOf(file: string): string[] {
  return importsIn(file, readFileSync(file, 'utf8'));
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
  // that runs in pods (program/) and what the command line shares with them (shared/).
  const ALLOWED: Record<string, string[]> = {
    shared: ['shared'],
    program: ['program'],
    constructs: ['constructs', 'shared'],
  };
  const partOf = (file: string) => relative(SRC, file).split('/')[0];

  test.each(Object.keys(ALLOWED))('GIVEN the files of src/%s THEN they import only the parts it may build on', (part) => {
    const files = sourceFiles(join(SRC, part));
    expect(files.length).toBeGreaterThan(0);
    const crossings = files.flatMap((file) => importsOf(file)
      .filter((target) => !ALLOWED[part].includes(partOf(target)))
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

/**
 * Imports run from the command line (packages/cli) to the library, never back: `import` of the
 * library never loads the CLI or its dependencies, and the CLI reaches the library only by its
 * package name, as it does once installed.
 */
describe('the import graph of packages/cli/src', () => {
  // The command line's parts: lint, doctor (which reads manifests as lint does) and mcp (which
  // serves both), and two files beside them: the package's one bin (`cdk8s-migrated-service
  // lint|doctor|mcp`, cli.ts), which dispatches to each command, and the version every command reports.
  const ALLOWED: Record<string, string[]> = {
    'lint': ['lint', 'version.ts'],
    'doctor': ['doctor', 'lint', 'version.ts'],
    'mcp': ['mcp', 'doctor', 'lint', 'version.ts'],
    'version.ts': [],
    'cli.ts': ['lint', 'doctor', 'mcp', 'version.ts'],
  };
  const partOf = (file: string) => relative(CLI_SRC, file).split('/')[0];
  const graph = () => new Map(sourceFiles(CLI_SRC).map((file) => [file, importsOf(file)]));

  test('GIVEN every source file WHEN its relative imports are followed THEN no file reaches itself', () => {
    expect(findCycle(graph())?.map((file) => relative(CLI_SRC, file)).join(' -> ')).toBeUndefined();
  });

  test.each(Object.keys(ALLOWED))('GIVEN the files of %s THEN they import only the parts it may build on', (part) => {
    const files = sourceFiles(CLI_SRC).filter((file) => partOf(file) === part);
    expect(files.length).toBeGreaterThan(0);
    const crossings = files.flatMap((file) => importsOf(file)
      .filter((target) => !ALLOWED[part].includes(partOf(target)))
      .map((target) => `${relative(CLI_SRC, file)} -> ${relative(CLI_SRC, target)}`));
    expect(crossings).toEqual([]);
    expect(readdirSync(CLI_SRC).sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  test('GIVEN every source file THEN none imports the bin, which is an entry point and nothing else', () => {
    // A command that imports the bin (for the version, say) closes a circle through the dispatch.
    const importers = [...graph()].filter(([, targets]) => targets.some((target) => partOf(target) === 'cli.ts'));
    expect(importers.map(([file]) => relative(CLI_SRC, file))).toEqual([]);
  });

  test('GIVEN the circle the bin once closed, through a lazy require THEN it is found', () => {
    // The MCP server imported the version from the bin, which requires the MCP server lazily.
    const bin = join(CLI_SRC, 'cli.ts');
    const server = join(CLI_SRC, 'mcp', 'server.ts');
    expect(importsOf(bin)).toContain(server);
    expect(importsIn(server, "import { version } from '../cli';")).toEqual([bin]);
    expect(findCycle(new Map([[bin, importsOf(bin)], [server, [bin]]]))).toEqual([bin, server, bin]);
  });
});

describe('the two packages', () => {
  const CLI_PACKAGE = 'cdk8s-migrated-service-cli';
  const CLI_DEPENDENCIES = /^(yaml|js-yaml|mvdan-sh|zod|@modelcontextprotocol\/)/;

  /** The imports of a library file that run to the command line: its package, its folder or its dependencies. */
  function backwards(file: string, text: string): string[] {
    return specifiersIn(text).filter((spec) => spec === CLI_PACKAGE || spec.startsWith(`${CLI_PACKAGE}/`) || CLI_DEPENDENCIES.test(spec)
      || (spec.startsWith('.') && !relative(CLI_SRC, resolve(dirname(file), spec)).startsWith('..')));
  }

  /** The imports of a CLI file that leave packages/cli by a relative path instead of the library's package name. */
  function outOfPackage(file: string, text: string): string[] {
    return specifiersIn(text).filter((spec) => spec.startsWith('.') && relative(join(CLI_SRC, '..'), resolve(dirname(file), spec)).startsWith('..'));
  }

  test('GIVEN every source file of the library THEN none imports the command line or its dependencies', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap((file) => backwards(file, readFileSync(file, 'utf8')).map((spec) => `${relative(SRC, file)} -> ${spec}`))).toEqual([]);
  });

  test('GIVEN every source file of the command line THEN it reaches the library by its package name only', () => {
    const files = sourceFiles(CLI_SRC);
    expect(files.length).toBeGreaterThan(10);
    expect(files.flatMap((file) => outOfPackage(file, readFileSync(file, 'utf8')).map((spec) => `${relative(CLI_SRC, file)} -> ${spec}`))).toEqual([]);
    // AND it does import the library: what both need is written once, there
    expect(files.some((file) => specifiersIn(readFileSync(file, 'utf8')).some((spec) => spec.startsWith('cdk8s-migrated-service/lib/shared/')))).toBe(true);
  });

  test('GIVEN an import that runs back WHEN checked THEN it is found', () => {
    // The checks themselves must be able to fail: by relative path, by package name, by a CLI dependency.
    const file = join(SRC, 'constructs', 'x.ts');
    expect(backwards(file, "import { lint } from '../../packages/cli/src/lint/lint';")).toEqual(['../../packages/cli/src/lint/lint']);
    expect(backwards(file, "import { main } from 'cdk8s-migrated-service-cli/lib/cli';")).toEqual(['cdk8s-migrated-service-cli/lib/cli']);
    expect(backwards(file, "const y = require('yaml');")).toEqual(['yaml']);
    expect(backwards(file, "import { Chart } from 'cdk8s';\nimport { x } from '../shared/names';")).toEqual([]);
    expect(outOfPackage(join(CLI_SRC, 'lint', 'x.ts'), "import { x } from '../../../../src/shared/pod-spec';")).toEqual(['../../../../src/shared/pod-spec']);
    expect(outOfPackage(join(CLI_SRC, 'lint', 'x.ts'), "import { x } from '../doctor/cli';")).toEqual([]);
  });
});
