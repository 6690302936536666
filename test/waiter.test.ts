import { Duration } from 'cdk8s';
import { MigrationWaiter } from '../src';
import { allOfKind, container, MINIMAL, oneOfKind, synthesize } from './support/manifests';

describe('k8s-wait-for (default)', () => {
  test('waits in job-wr mode: plain job mode counts a Job with no pod yet as done', () => {
    expect(MigrationWaiter.k8sWaitFor().bind('app-migration-v1', 'app-migration-ledger')).toEqual({
      image: 'groundnuty/k8s-wait-for:no-root-v2.0',
      args: ['job-wr', 'app-migration-v1'],
      env: { HOME: '/tmp' },
      user: 1100,
      jobVerbs: ['get'],
      ledgerVerbs: [],
      resources: undefined,
    });
  });
});

describe('kubectl wait', () => {
  // GIVEN the kubectl waiter with a timeout
  const { manifests } = synthesize({ ...MINIMAL, waiter: MigrationWaiter.kubectlWait({ timeout: Duration.minutes(20) }) });
  const job = oneOfKind(manifests, 'Job');
  const waiter = container(oneOfKind(manifests, 'Deployment').spec.template.spec, 'wait-for-myapp-migration');

  test('waits, watching, for either outcome of this release\'s Job, with a timeout', () => {
    expect(waiter.image).toBe('registry.k8s.io/kubectl:v1.28.15');
    expect(waiter.command).toEqual(['kubectl']);
    // `kubectl wait` takes one condition: the status of Complete or Failed, the only Job condition types
    // that sort before FailureTarget, is "True" on either outcome (test/waiter-kubectl.test.ts runs it)
    expect(waiter.args).toEqual([
      'wait',
      '--for=jsonpath={.status.conditions[?(@.type<"FailureTarget")].status}=True',
      `job/${job.metadata.name}`,
      '--timeout=1200s',
    ]);
    expect(waiter.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
  });

  test('then fails at once, loudly, unless the Job completed', () => {
    // GIVEN the second init container, which runs only after the first returned
    const pod = oneOfKind(manifests, 'Deployment').spec.template.spec;
    const check = container(pod, 'check-myapp-migration');
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-myapp-migration', 'check-myapp-migration']);
    // THEN it checks once for Complete: on a failed Job it exits 1 and the pod shows Init:Error
    expect(check.image).toBe(waiter.image);
    expect(check.args).toEqual(['wait', '--for=condition=complete', `job/${job.metadata.name}`, '--timeout=0s']);
    expect(check.securityContext).toEqual(waiter.securityContext);
  });

  test('the Role allows the get, list and watch kubectl wait uses, on this Job only', () => {
    expect(allOfKind(manifests, 'Role').find((r: any) => r.metadata.name.endsWith('-reader')).rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], resourceNames: [job.metadata.name], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  test('the default timeout is an hour', () => {
    expect(MigrationWaiter.kubectlWait().bind('j', 'l').args).toContain('--timeout=3600s');
  });
});

describe('bad waiter options', () => {
  test.each([
    [() => MigrationWaiter.k8sWaitFor({ image: 'groundnuty/k8s-wait-for' }), /k8sWaitFor\(\): image "groundnuty\/k8s-wait-for" is invalid: pin the image/],
    [() => MigrationWaiter.kubectlWait({ image: 'registry.k8s.io/kubectl:v1 28' }), /kubectlWait\(\): image ".*" is invalid: ":v1 28" is not a Docker tag/],
    [() => MigrationWaiter.k8sWaitFor({ user: 0 }), /k8sWaitFor\(\): user 0 is invalid: the waiter runs as a non-root UID/],
    [() => MigrationWaiter.k8sWaitFor({ user: -3 }), /user -3 is invalid/],
    [() => MigrationWaiter.kubectlWait({ timeout: Duration.seconds(0) }), /kubectlWait\(\): timeout "0s" is invalid: it must be a whole number of seconds, at least one/],
    [() => MigrationWaiter.kubectlWait({ timeout: Duration.millis(1500) }), /kubectlWait\(\): timeout "1.5s" is invalid/],
  ])('is rejected (%#)', (create, message) => {
    expect(create).toThrow(message);
  });

  test('an image pinned by digest is accepted', () => {
    expect(() => MigrationWaiter.k8sWaitFor({ image: `ghcr.io/acme/waiter@sha256:${'a'.repeat(64)}` })).not.toThrow();
  });
});
