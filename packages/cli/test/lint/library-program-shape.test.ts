import { Chart, Testing, Yaml } from 'cdk8s';
import { MigratedService } from 'cdk8s-migrated-service';
import { migrationWaiterScript } from 'cdk8s-migrated-service/lib/constructs/waiter-script';
import { lintText } from './support';
import { MINIMAL } from '../../../../test/support/manifests';
import { parseManifests } from '../../src/lint/load';
import { libraryProgramMode, Manifests } from '../../src/lint/model';

/* eslint-disable @typescript-eslint/no-explicit-any */

// The library's waiter ran its program inlined (`node -e <text> job`) before it shipped the
// program in a ConfigMap (`node /opt/migration-waiter/migration-waiter.js job`); manifests of both
// ages are in clusters and repositories, and lint must read both the same.

const TEXT = 'const x = 1;\nmain();\n';
const BY_PATH = ['node', '/opt/migration-waiter/migration-waiter.js'];

describe('the mode of the library\'s program', () => {
  test.each([
    ['run by path, the mode in args', BY_PATH, ['job'], 'job'],
    ['run by path, a post-deploy rollout waiter', BY_PATH, ['rollout'], 'rollout'],
    ['run by path, the path and mode in args', ['node'], ['/opt/migration-waiter/migration-waiter.js', 'record'], 'record'],
    ['run by path, everything in the command', [...BY_PATH, 'rollout'], [], 'rollout'],
    ['inlined, the mode in args', ['node', '-e', TEXT], ['job'], 'job'],
    ['inlined, a recorder', ['node', '-e', TEXT], ['record'], 'record'],
    ['inlined with --eval', ['node', '--eval', TEXT, 'rollout'], [], 'rollout'],
    ['no program in sight, the first argument', undefined, ['record'], 'record'],
    ['nothing at all', undefined, [], 'job'],
  ])('%s', (_title, command, args, mode) => {
    expect(libraryProgramMode(command as string[] | undefined, args as string[])).toBe(mode);
  });
});

describe('lint reads both shapes of the library\'s output the same', () => {
  function yamlOf(inline: boolean): string {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    new MigratedService(chart, 'web', { ...MINIMAL, postDeployMigrationCommand: ['./contract'] });
    const manifests = Testing.synth(chart);
    if (inline) {
      // the shape before the ConfigMap: the program's text inlined, no program volume
      for (const m of manifests) {
        const pod = m.spec?.template?.spec;
        for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
          if (c.command?.[1] === BY_PATH[1]) {
            c.command = ['node', '-e', migrationWaiterScript()];
            c.volumeMounts = c.volumeMounts.filter((v: any) => v.name !== 'migration-waiter-program');
            c.env = c.env.filter((e: any) => e.name !== 'MIGRATION_WAITER_SHA256');
          }
        }
        if (pod?.volumes) pod.volumes = pod.volumes.filter((v: any) => v.name !== 'migration-waiter-program');
      }
    }
    return Yaml.stringify(...manifests.filter((m) => !inline || !/-migration-waiter$/.test(m.metadata.name)));
  }

  test.each([['run by path', false], ['inlined', true]])('%s: one waiter for the Job, none for the recorder or the rollout waiter, and no finding', (_title, inline) => {
    const yaml = yamlOf(inline as boolean);
    expect(yaml.includes('node /opt') || yaml.includes('/opt/migration-waiter/migration-waiter.js')).toBe(!inline);
    const model = new Manifests(parseManifests(yaml, 'input.yaml'));
    expect(model.waiters.map((w) => [w.kind, w.jobName, w.container.name])).toEqual([['library', expect.stringMatching(/^web-migration-/), 'wait-for-web-migration']]);
    expect(lintText(yaml).findings.map((f) => `${f.rule.id} ${f.message}`)).toEqual([]);
  });
});
