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
