import { versionLabelValue } from '../shared/names';

/**
 * The `app.kubernetes.io/*` labels of every object and pod template: `version` carries the tag so
 * that a label selector finds a release's objects whatever its names became.
 */
export function recommendedLabels(name: string, imageTag: string, component: string, partOf?: string): { [key: string]: string } {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/version': versionLabelValue(imageTag),
    'app.kubernetes.io/component': component,
    ...(partOf !== undefined ? { 'app.kubernetes.io/part-of': partOf } : {}),
    'app.kubernetes.io/managed-by': 'cdk8s',
  };
}

/**
 * The labels a Deployment's (immutable) selector uses: stable from one release to the next, so
 * never the version and never a path-derived hash.
 */
export function selectorLabels(name: string, component: string): { [key: string]: string } {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': component,
  };
}

/**
 * The label selector of every Job of the migration `name` across releases, pre- and post-deploy
 * (their pods carry the same labels): the labels that stay from one release to the next.
 */
export function migrationSelector(name: string): string {
  return `app.kubernetes.io/name=${name},app.kubernetes.io/managed-by=cdk8s,app.kubernetes.io/component in (migration,post-migration)`;
}
