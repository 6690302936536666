import { Duration } from 'cdk8s';
import { ArgoCdHookDeletePolicy, Delivery, HelmHookDeletePolicy, MigrationWaiter } from '../src';
import { container, MINIMAL, oneOfKind, synthesize, waitedJob } from './support/manifests';

const FLUX_FORCE = 'kustomize.toolkit.fluxcd.io/force';

function jobAndDeployment(delivery: Delivery) {
  const { manifests } = synthesize({ ...MINIMAL, delivery });
  return { manifests, job: oneOfKind(manifests, 'Job'), deployment: oneOfKind(manifests, 'Deployment') };
}

describe.each([
  ['flux', Delivery.flux()],
  ['argocd', Delivery.argoCd()],
  ['helm', Delivery.helm()],
  ['kubectl', Delivery.kubectl()],
])('with %s', (engine, delivery) => {
  test('the init container still guards every pod, and the Job comes first', () => {
    // GIVEN any delivery engine
    const { manifests, job, deployment } = jobAndDeployment(delivery);
    // THEN the pods still wait for this release's Job, which precedes the Deployment
    expect(delivery.engine).toBe(engine);
    expect(waitedJob(container(deployment.spec.template.spec, 'wait-for-myapp-migration'))).toBe(job.metadata.name);
    expect(manifests.indexOf(job)).toBeLessThan(manifests.indexOf(deployment));
    expect(job.spec).not.toHaveProperty('ttlSecondsAfterFinished');
  });
});

test('Flux: the force annotation, and prune disabled so the next release never kills a running migration', () => {
  expect(jobAndDeployment(Delivery.flux()).job.metadata.annotations).toEqual({ [FLUX_FORCE]: 'Enabled', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' });
});

test('Argo CD: a PreSync hook kept until the next sync creates the new one', () => {
  const { job } = jobAndDeployment(Delivery.argoCd());
  expect(job.metadata.annotations).toEqual({
    'argocd.argoproj.io/hook': 'PreSync',
    'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
  });
});

test('Argo CD: an optional sync-wave, written as a string', () => {
  const { job } = jobAndDeployment(Delivery.argoCd({ syncWave: -5, hookDeletePolicy: ArgoCdHookDeletePolicy.HOOK_FAILED }));
  expect(job.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('-5');
  expect(job.metadata.annotations['argocd.argoproj.io/hook-delete-policy']).toBe('HookFailed');
  expect(job.metadata.annotations).not.toHaveProperty(FLUX_FORCE);
});

test('Helm: a pre-install and pre-upgrade hook with weight and delete policy', () => {
  const { job } = jobAndDeployment(Delivery.helm({ hookWeight: -1 }));
  expect(job.metadata.annotations).toEqual({
    'helm.sh/hook': 'pre-install,pre-upgrade',
    'helm.sh/hook-weight': '-1',
    'helm.sh/hook-delete-policy': 'before-hook-creation',
  });
  expect(jobAndDeployment(Delivery.helm()).job.metadata.annotations['helm.sh/hook-weight']).toBe('0');
});

test('kubectl: no engine annotations', () => {
  expect(jobAndDeployment(Delivery.kubectl()).job.metadata).not.toHaveProperty('annotations');
});

describe('combinations that break the pattern', () => {
  test('a delete policy that removes the Job on success is rejected, with the reason', () => {
    expect(() => Delivery.argoCd({ hookDeletePolicy: ArgoCdHookDeletePolicy.HOOK_SUCCEEDED }))
      .toThrow(/Delivery.argoCd\(\): hookDeletePolicy "HookSucceeded" is invalid: .*their waiter finds no Job.*Use BeforeHookCreation/);
    expect(() => Delivery.helm({ hookDeletePolicy: HelmHookDeletePolicy.HOOK_SUCCEEDED }))
      .toThrow(/Delivery.helm\(\): hookDeletePolicy "hook-succeeded" is invalid: .*Init:CrashLoopBackOff.*before-hook-creation/);
  });

  test('non-integer waves and weights are rejected', () => {
    expect(() => Delivery.argoCd({ syncWave: 1.5 })).toThrow(/syncWave 1.5 is invalid: a sync-wave must be a whole number/);
    expect(() => Delivery.helm({ hookWeight: 0.5 })).toThrow(/hookWeight 0.5 is invalid: a hook weight must be a whole number/);
  });

  test.each([
    [Delivery.flux(), /Flux re-creates .*the migration runs again every interval/],
    [Delivery.argoCd(), /Argo CD creates hooks only during a sync/],
    [Delivery.helm(), /Helm runs hooks only during install and upgrade/],
    [Delivery.kubectl(), /comes back only with the next kubectl apply/],
  ])('a TTL is allowed but flagged with what it breaks for the engine (%#)', (delivery, consequence) => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { service } = synthesize({ ...MINIMAL, delivery, ttlAfterFinished: Duration.minutes(30), waiter: MigrationWaiter.k8sWaitFor() });
      expect(service.warnings).toEqual([expect.stringMatching(consequence)]);
      expect(service.warnings[0]).toMatch(/after 30 minutes/);
      // AND with a waiter that needs the Job itself, what that costs every later pod
      expect(service.warnings[0]).toMatch(/waiter exits 1: the pod loops in Init:CrashLoopBackOff/);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });
});
