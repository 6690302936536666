import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/** `envFrom` entries for the named ConfigMaps and Secrets, in that order. */
export function envFromNames(scope: Construct, configMapNames: string[] = [], secretNames: string[] = []): kplus.EnvFrom[] {
  return [
    ...configMapNames.map((name, i) => kplus.Env.fromConfigMap(kplus.ConfigMap.fromConfigMapName(scope, `EnvConfigMap${i}`, name))),
    ...secretNames.map((name, i) => kplus.Env.fromSecret(kplus.Secret.fromSecretName(scope, `EnvSecret${i}`, name))),
  ];
}

/**
 * Mounts an emptyDir on `/tmp` and on each of `paths`: under a read-only root filesystem, these
 * are the only places the container can write to.
 */
export function mountWritablePaths(
  scope: Construct, container: kplus.Container, paths: string[], idPrefix: string, volumePrefix: string, sizeLimit: Size,
): void {
  ['/tmp', ...paths.filter((path) => path !== '/tmp')].forEach((path, i) => {
    const volumeName = i === 0 ? 'tmp' : `${volumePrefix}-${i}`;
    container.mount(path, kplus.Volume.fromEmptyDir(scope, `${idPrefix}Volume${i}`, volumeName, { sizeLimit }));
  });
}

export function toEnvValues(env: { [name: string]: string }): { [name: string]: kplus.EnvValue } {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, kplus.EnvValue.fromValue(value)]));
}

/**
 * Resources of the small containers the constructs add (waiters, the recorder): they watch or
 * write one object and do nothing else, where cdk8s-plus would give each a full CPU. A waiting Node
 * process has an RSS of about 45 MB. Init container requests do not add up with the app
 * containers': the scheduler takes the larger.
 */
export const PROGRAM_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) },
};

export function resourcesJson(resources: kplus.ContainerResources): any {
  const pick = (kind: 'request' | 'limit') => {
    const cpu = resources.cpu?.[kind]?.amount;
    const memory = resources.memory?.[kind]?.asString();
    const storage = resources.ephemeralStorage?.[kind]?.asString();
    return {
      ...(cpu !== undefined ? { cpu } : {}),
      ...(memory !== undefined ? { memory } : {}),
      ...(storage !== undefined ? { 'ephemeral-storage': storage } : {}),
    };
  };
  return { limits: pick('limit'), requests: pick('request') };
}
