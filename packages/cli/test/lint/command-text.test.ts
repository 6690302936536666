import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { FIXTURES, lintText } from './support';

/** The clean rule fixture with the migration container changed (`job`) and, optionally, the Job renamed or the image changed. */
function withMigration(container: object, change: (objects: any[]) => void = () => undefined): string {
  const objects = parseAllDocuments(fs.readFileSync(path.join(FIXTURES, 'rules', 'clean.yaml'), 'utf8')).map((d: any) => d.toJS());
  const job = objects.find((o) => o.kind === 'Job');
  const migrate = job.spec.template.spec.containers[0];
  delete migrate.command;
  Object.assign(migrate, container);
  change(objects);
  return objects.map((o) => stringify(o)).join('---\n');
}
const found = (text: string, id: string) => lintText(text).findings.filter((f) => f.rule.id === id).map((f) => f.message);

describe('MS031: shell variables in an exec-form command', () => {
  test.each([
    ['$NODE_ENV in command', { command: ['npx', 'knex', 'migrate:latest', '--env', '$NODE_ENV'] }, '$NODE_ENV'],
    ['${NODE_ENV} in args', { command: ['npx'], args: ['knex', 'migrate:latest', '--env=${NODE_ENV}'] }, '${NODE_ENV}'],
    ['$VAR in args without command', { args: ['migrate', '--env', '$NODE_ENV'] }, '$NODE_ENV'],
    ['an argument after the script of sh -c', { command: ['sh', '-c', 'exec migrate "$0"', '$NODE_ENV'] }, '$NODE_ENV'],
  ])('GIVEN %s THEN it is reported with Kubernetes\' syntax and the shell as fixes', (_case, container, expansion) => {
    const [message] = found(withMigration(container), 'MS031');
    expect(message).toContain(`holds ${expansion}`);
    expect(message).toContain('Write $(NODE_ENV) with NODE_ENV declared in env, or run the command through a shell');
  });

  test('GIVEN $(VAR) that the container does not declare THEN it is reported; declared, from envFrom, or a service link THEN not', () => {
    const undeclared = { command: ['goose', 'postgres', '$(DSN)', 'up'] };
    expect(found(withMigration({ ...undeclared, envFrom: undefined }), 'MS031')).toEqual([expect.stringContaining('refers to $(DSN), but the container declares no variable DSN')]);
    expect(found(withMigration({ ...undeclared, envFrom: undefined, env: [{ name: 'DSN', value: 'postgres://db/app' }] }), 'MS031')).toEqual([]);
    expect(found(withMigration(undeclared), 'MS031')).toEqual([]); // envFrom: its keys are not in the manifest
    expect(found(withMigration({ command: ['migrate', '--host', '$(POSTGRES_SERVICE_HOST)'], envFrom: undefined }), 'MS031')).toEqual([]);
    expect(found(withMigration({ command: ['echo', '$$(DSN)'], envFrom: undefined }), 'MS031')).toEqual([]);
  });

  test.each([
    ['the script of sh -c', { command: ['sh', '-c', 'npx knex migrate:latest --env "$NODE_ENV"'] }],
    ['the script of bash -ec', { command: ['bash', '-ec', 'exec migrate --env ${NODE_ENV:-production}'] }],
    ['the code of node -e', { command: ['node', '-e', 'console.log(`${process.env.NODE_ENV}`, $x)'] }],
    ['an argument with spaces without command (an ENTRYPOINT shell\'s script)', { args: ['migrate --env $NODE_ENV'] }],
    ['$$ (Kubernetes\' escape)', { command: ['echo', '$$NODE_ENV'] }],
    ['a dollar that starts no name', { command: ['echo', 'costs 5$', '$1'] }],
  ])('GIVEN %s THEN nothing is reported', (_case, container) => {
    expect(found(withMigration(container), 'MS031')).toEqual([]);
  });

  test('GIVEN ${IMAGE_TAG} also in an image THEN it is a template placeholder a renderer substitutes, and not reported', () => {
    const text = withMigration({ command: ['migrate', '--release', '${IMAGE_TAG}'] }, (objects) => {
      objects.find((o) => o.kind === 'Job').spec.template.spec.containers[0].image = 'registry.example.com/myapp-migration:${IMAGE_TAG}';
    });
    expect(found(text, 'MS031')).toEqual([]);
    // AND without the placeholder elsewhere THEN it is reported
    expect(found(withMigration({ command: ['migrate', '--release', '${IMAGE_TAG}'] }), 'MS031')).toHaveLength(1);
  });
});

describe('MS032: carriage returns', () => {
  test('GIVEN an exec-form argument with a carriage return THEN it is reported as part of the word', () => {
    expect(found(withMigration({ command: ['migrate', 'up\r'] }), 'MS032')).toEqual([
      'Job shop/myapp-migration-v1-2-3 (container migrate): command[1] "up\\r" holds a carriage return, which the program receives as part of the word',
    ]);
  });

  test('GIVEN a bash script with Windows line endings THEN its first line is quoted in the message', () => {
    expect(found(withMigration({ command: ['bash', '-c', 'set -euo pipefail\r\nexec migrate\r\n'] }), 'MS032'))
      .toEqual([expect.stringContaining('("set -euo pipefail\\r")')]);
  });
});
