/**
 * The library and the command line are released together, with one version number: the CLI's
 * rules mirror the constructs of that version, and it imports the library's shared rules.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { PACKAGE, REPO } from './support/from-sources';
import { releasedCliManifest } from '../../../projenrc/pack-cli';
import { version } from '../src/version';

const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

describe('one version for both packages', () => {
  test('GIVEN the two package.json files THEN the CLI has the library\'s version and depends on exactly that version', () => {
    const library = manifest(REPO);
    const cli = manifest(PACKAGE);
    expect(library.name).toBe('cdk8s-migrated-service');
    expect(cli.name).toBe('cdk8s-migrated-service-cli');
    expect(cli.version).toBe(library.version);
    expect(cli.dependencies[library.name]).toBe(library.version);
    // AND `--version` tells the CLI's version
    expect(version()).toBe(cli.version);
  });

  test('GIVEN a released library version WHEN the CLI is packed THEN its package.json carries that version, for itself and for the library', () => {
    const cli = manifest(PACKAGE);
    const packed = releasedCliManifest({ name: 'cdk8s-migrated-service', version: '1.4.2' }, cli);
    expect(packed.version).toBe('1.4.2');
    expect(packed.dependencies).toEqual({ ...cli.dependencies, 'cdk8s-migrated-service': '1.4.2' });
    expect(packed.bin).toEqual(cli.bin);
    // AND what only the repository needs stays out
    expect(packed).not.toHaveProperty('devDependencies');
    expect(packed).not.toHaveProperty('jest');
  });

  test('GIVEN a CLI manifest that does not depend on the library WHEN packed THEN packing fails', () => {
    const { dependencies: { ['cdk8s-migrated-service']: _, ...others }, ...cli } = manifest(PACKAGE);
    expect(() => releasedCliManifest({ name: 'cdk8s-migrated-service', version: '1.4.2' }, { ...cli, dependencies: others }))
      .toThrow(/does not depend on cdk8s-migrated-service/);
  });
});
