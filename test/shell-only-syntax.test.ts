import { execFileSync, spawnSync } from 'child_process';
import { Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import { DatabaseMigration, MigratedService, MigrationTool, MigrationWaiter } from '../src';
import { SHOP, shopChart } from './support/shop';
import { hasCarriageReturn, shellOnlyExpansion, shellOnlySyntaxProblem, shellScriptIndex } from '../src/shared/command';

describe('shellOnlyExpansion', () => {
  test.each([
    ['$NODE_ENV', '$NODE_ENV'],
    ['--env=${NODE_ENV}', '${NODE_ENV}'],
    ['${DB:-postgres}', '${DB:-postgres}'],
    ['$(NODE_ENV)', undefined],
    ['$$NODE_ENV', undefined],
    ['costs $5', undefined],
    ['plain', undefined],
  ])('in %j finds %j', (arg, token) => {
    // THEN only what a shell alone expands is reported
    expect(shellOnlyExpansion(arg)).toBe(token);
  });

  test('reports nothing in an argument without "$"', () => {
    fc.assert(fc.property(fc.string().filter((s) => !s.includes('$')), (arg) => shellOnlyExpansion(arg) === undefined));
  });

  test('hasCarriageReturn tells a script with Windows line endings', () => {
    expect(hasCarriageReturn('set -eu\r\necho ok')).toBe(true);
    expect(hasCarriageReturn('set -eu\necho ok')).toBe(false);
  });

  test.each([
    [['sh', '-c', 'x'], 2],
    [['/bin/bash', '-euo', 'pipefail', '-c', 'x'], -1],
    [['bash', '-o', 'pipefail', '-ec', 'x'], 4],
    [['busybox', 'sh', '-c', 'x'], 3],
    [['npx', '-c', 'x'], -1],
    [['sh', 'script.sh'], -1],
  ])('the script of %j is at %d', (words, index) => {
    expect(shellScriptIndex(words)).toBe(index);
  });
});

describe('what Kubernetes passes literally, run for real', () => {
  test('without a shell, "$NODE_ENV" reaches the program as it is; through the fix\'s sh -c it is expanded', () => {
    // GIVEN an exec-form command with $NODE_ENV, and the fix the error proposes
    const words = ['printf', '%s', '$NODE_ENV'];
    const fix = JSON.parse(/(\["sh","-c",.*\])\.$/.exec(shellOnlySyntaxProblem(words)!.problem)![1]);

    // WHEN each runs as the kubelet runs it (execve, no shell) with NODE_ENV set
    const env = { ...process.env, NODE_ENV: 'production' };
    const literal = execFileSync(words[0], words.slice(1), { env }).toString();
    const expanded = execFileSync(fix[0], fix.slice(1), { env }).toString();

    // THEN the first prints the variable's name, the fix its value
    expect(literal).toBe('$NODE_ENV');
    expect(expanded).toBe('production');
  });

  test('a script with Windows line endings fails in the shell, and the same script with \\n runs', () => {
    // GIVEN a script saved with \r\n
    const script = 'set -euo pipefail\r\necho migrated\r\n';

    // WHEN a real shell runs it
    const crlf = spawnSync('bash', ['-c', script]);
    const lf = spawnSync('bash', ['-c', script.replace(/\r\n/g, '\n')]);

    // THEN only the \n one succeeds
    expect(crlf.status).not.toBe(0);
    expect(crlf.stderr.toString()).toMatch(/pipefail\r: invalid option name/);
    expect(lf.status).toBe(0);
    expect(lf.stdout.toString()).toBe('migrated\n');
  });
});

describe('commands refused at synth', () => {
  test('a $VAR in an exec-form migrationCommand is refused with $(VAR) and sh -c as the fix', () => {
    // WHEN the migration command passes $NODE_ENV without a shell
    const create = () => new DatabaseMigration(shopChart(), 'shop', {
      imageTag: 'v1', image: 'registry.example.com/shop', migrationCommand: ['npx', 'knex', 'migrate:latest', '--env', '$NODE_ENV'],
    });

    // THEN it is refused, naming the construct, the prop, the value and both fixes
    expect(create).toThrow(/DatabaseMigration "shop\/shop": migrationCommand .*"\$NODE_ENV" reaches the program literally.*Write \$\(NODE_ENV\) instead.*\["sh","-c","exec npx knex migrate:latest --env \\"\$NODE_ENV\\""\]/);
  });

  test('$(VAR), and $VAR inside a sh -c script, are accepted', () => {
    expect(() => new DatabaseMigration(shopChart(), 'shop', {
      imageTag: 'v1', image: 'registry.example.com/shop', migrationCommand: ['npx', 'knex', 'migrate:latest', '--env', '$(NODE_ENV)'],
    })).not.toThrow();
    expect(() => new DatabaseMigration(shopChart(), 'shop', {
      imageTag: 'v1', image: 'registry.example.com/shop', migrationCommand: ['sh', '-c', 'npx knex migrate:latest --env "$NODE_ENV"'],
    })).not.toThrow();
  });

  test('a sh -c script with Windows line endings is refused, in MigrationTool.custom() and postDeployMigrationCommand too', () => {
    const script = 'set -euo pipefail\r\nbundle exec rails db:migrate\r\n';
    expect(() => MigrationTool.custom(['sh', '-c', script])).toThrow(/MigrationTool.custom\(\): command .*Windows line endings/);
    expect(() => new DatabaseMigration(shopChart(), 'shop', {
      imageTag: 'v1', image: 'registry.example.com/shop', migrationCommand: ['true'], postDeployMigrationCommand: ['bash', '-c', script],
    })).toThrow(/postDeployMigrationCommand .*Windows line endings.*\\n line endings/);
  });

  test('MigratedService judges its command and args together', () => {
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, command: ['node', 'server.js'], args: ['--port', '$PORT'] }))
      .toThrow(/MigratedService "shop\/shop": args \["--port","\$PORT"\] is invalid: "\$PORT" reaches the program literally/);
    // AND args read by the image's own ENTRYPOINT, which may be a shell, are left alone
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, args: ['--port', '$PORT'] })).not.toThrow();
  });

  test('a gated workload whose container passes ${VAR} without a shell is refused at synth', () => {
    // GIVEN a worker whose command passes ${QUEUE} literally (its short progress deadline is not what this test is about)
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const chart = shopChart();
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'worker' } });
    worker.addContainer({ name: 'worker', image: 'registry.example.com/shop:v1', command: ['node', 'worker.js'], args: ['--queue', '${QUEUE}'] });
    new DatabaseMigration(chart, 'shop', { ...SHOP, imageTag: 'v1' }).gate(worker);

    // WHEN it is synthesized THEN the error names the workload, the container and the fix
    expect(() => Testing.synth(chart)).toThrow(/gate\(workload\) "shop\/worker" is invalid: its container "worker" .*"\$\{QUEUE\}" reaches the program literally.*\$\(QUEUE\)/);
    jest.restoreAllMocks();
  });
});

describe('the waiter\'s memory', () => {
  test('MigrationWaiter.watch() refuses a memory limit below 64Mi, which Node.js alone nearly fills', () => {
    expect(() => MigrationWaiter.watch({ resources: { memory: { limit: Size.mebibytes(32) } } }))
      .toThrow(/MigrationWaiter.watch\(\): resources.memory.limit "32Mi" is invalid: .*at least 64Mi.*OOMKilled.*no gated pod ever starts/);
    expect(() => MigrationWaiter.watch({ resources: { memory: { limit: Size.mebibytes(64) } } })).not.toThrow();
    expect(() => MigrationWaiter.watch({ resources: { memory: { request: Size.mebibytes(32) } } })).not.toThrow();
  });
});
