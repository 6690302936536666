/**
 * The program the constructs embed (waiter/migration-waiter.js, a build output that every task
 * which embeds it makes first) is the bundle of its TypeScript source (src/program): one CommonJS
 * file that needs only Node built-ins.
 */
import { readdirSync, readFileSync } from 'fs';
import { builtinModules } from 'module';
import { join } from 'path';
import { bundleProgram, PROGRAM_BUNDLE } from '../../projenrc/bundle-program';

const ROOT = join(__dirname, '..', '..');
const bundled = () => readFileSync(join(ROOT, PROGRAM_BUNDLE), 'utf8');

describe('the bundle', () => {
  test('GIVEN src/program WHEN bundled in-process THEN the result is the file the constructs embed, byte for byte (run `npx projen bundle:program` otherwise)', () => {
    expect(bundleProgram(ROOT)).toBe(bundled());
  });

  test('GIVEN the bundle THEN its first line says where it comes from and how to make it', () => {
    expect(bundled().split('\n')[0]).toBe('// Generated from src/program by `npx projen bundle:program`: edit the TypeScript there, not this file.');
  });

  test('GIVEN the bundle THEN it requires nothing but Node built-ins, and it is strict', () => {
    const text = bundled();
    const required = [...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((name) => !builtinModules.includes(name))).toEqual([]);
    expect(text.split('\n')[1]).toMatch(/^"use strict";/);
  });

  test('GIVEN the bundle THEN it is minified, a few lines in every chart\'s ConfigMap, yet a stack trace and an error still say where', () => {
    const text = bundled();
    // Minified: the header, then the code on a handful of lines (the newlines left are inside template strings)
    expect(text.split('\n').length).toBeLessThan(20);
    expect(Buffer.byteLength(text)).toBeLessThan(24_000);
    // The names of functions are kept (esbuild keepNames), so a stack trace names the function that failed
    for (const name of ['waitForJob', 'main']) {
      expect(text).toMatch(new RegExp(`"${name}"`));
    }
    // And the messages a pod logs are as written in src/program
    expect(text).toContain('records its success');
  });
});

describe('the program\'s source', () => {
  const dir = join(ROOT, 'src', 'program');
  const sources = readdirSync(dir).filter((file) => file.endsWith('.ts'));

  test.each(sources)('GIVEN %s THEN it imports only modules of src/program and Node built-ins', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const targets = [...text.matchAll(/^import\b[^;]*?(?:from |require\()'([^']+)'/gms)].map((m) => m[1]);
    const outside = targets.filter((target) => !/^\.\/[a-z-]+$/.test(target) && !builtinModules.includes(target));
    expect(outside).toEqual([]);
  });

  test('GIVEN the mode table THEN it names the four modes, each in a module of its own', () => {
    const main = readFileSync(join(dir, 'main.ts'), 'utf8');
    const modes = [...main.matchAll(/^ {2}\['([a-z]+)', (\w+)\],$/gm)].map((m) => m[1]);
    expect(modes).toEqual(['job', 'record', 'rollout', 'queue']);
    for (const mode of modes) expect(sources).toContain(`${mode}.ts`);
  });
});
