import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigrationProps } from './database-migration-props';
import { MigrationTool } from './migration-tool';
import {
  COMMAND, DELIVERY, DURATION, ENV_VALUES, IMAGE_PULL_POLICY, MIGRATION_TOOL, MIGRATION_WAITER, PropTypes, RESOURCES, SECURITY_CONTEXT,
  STRING, STRING_LIST, STRING_MAP,
} from './prop-types';
import {
  invalidProp,
  validateAnnotationKeys,
  validateCommand,
  validateEnvNames,
  validateImageRepository,
  validateImageTag,
  validateLabels,
  validateObjectNames,
  validatePositiveDuration,
  validateResources,
} from './validation';
import { isDns1035Label } from '../shared/names';

/**
 * The props of a migration that MigratedService takes too, each listed once; a prop that neither
 * construct knows is refused, not ignored.
 */
export const SHARED_MIGRATION_PROPS: PropTypes<Omit<DatabaseMigrationProps, 'releaseImages'>> = {
  imageTag: STRING,
  image: STRING,
  migrationCommand: COMMAND,
  migrationTool: MIGRATION_TOOL,
  name: STRING,
  configMapNames: STRING_LIST,
  secretNames: STRING_LIST,
  env: ENV_VALUES,
  resources: RESOURCES,
  securityContext: SECURITY_CONTEXT,
  podLabels: STRING_MAP,
  podAnnotations: STRING_MAP,
  imagePullPolicy: IMAGE_PULL_POLICY,
  imagePullSecretNames: STRING_LIST,
  imagePullSecretName: STRING,
  waiter: MIGRATION_WAITER,
  delivery: DELIVERY,
  ttlAfterFinished: DURATION,
  migrationTimeout: DURATION,
  queueTimeout: DURATION,
  postDeployMigrationCommand: COMMAND,
  postDeployMigrationTimeout: DURATION,
  partOf: STRING,
};

/** The labels the constructs set on every object themselves. */
const MANAGED_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
];

/**
 * Checks the props that describe the migration. `MigratedService` checks them with its own name
 * first, so that its errors name the construct the user created.
 */
export function validateMigrationProps(owner: string, name: string, nameFromId: boolean, props: DatabaseMigrationProps): void {
  if (!isDns1035Label(name)) {
    const source = nameFromId ? 'name (defaulted from the construct id)' : 'name';
    const fix = nameFromId ? ' Pass a valid `name` prop, or use such an id.' : '';
    throw invalidProp(owner, source, name,
      'the base name of every object is a DNS-1035 label: lowercase letters, digits and "-", starting with a letter, '
      + `ending with a letter or digit, at most 63 characters.${fix}`);
  }
  validateImageTag(owner, 'imageTag', props.imageTag);
  validateImageRepository(owner, 'image', props.image);
  for (const repository of props.releaseImages ?? []) {
    validateImageRepository(owner, 'releaseImages', repository);
  }
  const tool = resolveMigrationTool(owner, props);
  resolvePostDeployPhase(owner, props, tool);
  validateEnvNames(owner, 'env', Object.keys(props.env ?? {}));
  refuseReplacedToolEnv(owner, tool, props.env ?? {});
  validateResources(owner, 'resources', props.resources);
  validateNonRootUser(owner, props.securityContext);
  validateObjectNames(owner, 'configMapNames', props.configMapNames ?? [], 'ConfigMap');
  validateObjectNames(owner, 'secretNames', props.secretNames ?? [], 'Secret');
  imagePullSecretNamesOf(owner, props);
  validatePositiveDuration(owner, 'migrationTimeout', props.migrationTimeout ?? Duration.hours(1));
  if (props.queueTimeout !== undefined) {
    validatePositiveDuration(owner, 'queueTimeout', props.queueTimeout);
  }
  if (props.postDeployMigrationTimeout !== undefined) {
    validatePositiveDuration(owner, 'postDeployMigrationTimeout', props.postDeployMigrationTimeout);
  }
  if (props.ttlAfterFinished !== undefined) {
    validatePositiveDuration(owner, 'ttlAfterFinished', props.ttlAfterFinished);
  }
  validatePodLabels(owner, props.podLabels ?? {});
  validateAnnotationKeys(owner, 'podAnnotations', props.podAnnotations ?? {});
  if (props.partOf !== undefined) {
    validateLabels(owner, 'partOf', { 'app.kubernetes.io/part-of': props.partOf });
  }
}

/**
 * The pull secrets of every pod the constructs create or gate: `imagePullSecretNames`, or the
 * deprecated `imagePullSecretName`, checked. Both at once is refused: one would be ignored.
 */
export function imagePullSecretNamesOf(owner: string, props: Pick<DatabaseMigrationProps, 'imagePullSecretName' | 'imagePullSecretNames'>): string[] {
  if (props.imagePullSecretName !== undefined && props.imagePullSecretNames !== undefined) {
    throw invalidProp(owner, 'imagePullSecretName', props.imagePullSecretName,
      'give imagePullSecretNames or the deprecated imagePullSecretName, not both. '
      + `Move it into the list: imagePullSecretNames: ${JSON.stringify([props.imagePullSecretName, ...props.imagePullSecretNames])}.`);
  }
  if (props.imagePullSecretName !== undefined) {
    validateObjectNames(owner, 'imagePullSecretName', [props.imagePullSecretName], 'Secret');
    return [props.imagePullSecretName];
  }
  // (That it is a list of strings is checked with the other props' types, in SHARED_MIGRATION_PROPS.)
  validateObjectNames(owner, 'imagePullSecretNames', props.imagePullSecretNames ?? [], 'Secret');
  return props.imagePullSecretNames ?? [];
}

/**
 * The constructs enforce `runAsNonRoot`; with user 0 the kubelet refuses to start the container
 * (CreateContainerConfigError), long after synth. Turning `ensureNonRoot` off is the explicit way.
 */
function validateNonRootUser(owner: string, securityContext: kplus.ContainerSecurityContextProps | undefined): void {
  if (securityContext?.user === 0 && (securityContext.ensureNonRoot ?? true)) {
    throw invalidProp(owner, 'securityContext.user', 0,
      'the containers run with runAsNonRoot: true, and the kubelet refuses to start a container whose user is 0 (CreateContainerConfigError). '
      + 'Use a non-zero user (e.g. 1000), or, if the image must run as root, set ensureNonRoot: false as well.');
  }
}

/**
 * A variable of `env` that the preset sets too would silently replace the preset's value, which
 * the tool needs under a read-only root filesystem (e.g. HOME=/tmp for npx).
 */
function refuseReplacedToolEnv(owner: string, tool: MigrationTool, env: { [name: string]: kplus.EnvValue }): void {
  const presetEnv = { ...tool.postDeployEnv, ...tool.env };
  for (const [name, value] of Object.entries(env)) {
    const preset = presetEnv[name];
    if (preset !== undefined && (value.valueFrom !== undefined || value.value !== preset)) {
      throw invalidProp(owner, `env["${name}"]`, value.value ?? '(from a reference)',
        `MigrationTool.${tool.toolName}() sets ${name} to "${preset}" in the migration Job, and env would replace it. `
        + `Remove ${name} from env; to replace the preset's value on purpose, give the command and env yourself: `
        + 'MigrationTool.custom(command, { env, writablePaths }).');
    }
  }
}

/**
 * Pod labels are checked, and may not set the construct's own `app.kubernetes.io/` labels: the
 * construct would overwrite them, and the selectors depend on them.
 */
export function validatePodLabels(owner: string, podLabels: { [key: string]: string }): void {
  validateLabels(owner, 'podLabels', podLabels);
  const managed = Object.keys(podLabels).find((key) => MANAGED_LABELS.includes(key));
  if (managed !== undefined) {
    throw invalidProp(owner, 'podLabels key', managed,
      `the construct sets ${MANAGED_LABELS.join(', ')} itself, and the selectors depend on them. `
      + 'Use partOf for part-of, or another key.');
  }
}

export function resolveMigrationTool(owner: string, props: DatabaseMigrationProps): MigrationTool {
  if (props.migrationCommand !== undefined && props.migrationTool !== undefined) {
    throw invalidProp(owner, 'migrationCommand', props.migrationCommand,
      `give migrationCommand or migrationTool, not both (migrationTool is ${props.migrationTool.toolName}, with its own command). `
      + 'For your own command with a tool\'s needs, use MigrationTool.custom(command, options).');
  }
  if (props.migrationTool !== undefined) {
    return props.migrationTool;
  }
  if (props.migrationCommand === undefined) {
    throw invalidProp(owner, 'migrationCommand', undefined,
      'the Job needs a command: set migrationCommand (e.g. ["npx", "prisma", "migrate", "deploy"]) or migrationTool (e.g. MigrationTool.prisma()).');
  }
  validateCommand(owner, 'migrationCommand', props.migrationCommand);
  return MigrationTool.custom(props.migrationCommand);
}


/** The command and environment of the post-deploy run, when there is one. */
export interface PostDeployPhase {
  readonly command: string[];
  readonly env: { [name: string]: string };
}

/**
 * The post-deploy run: the tool's own, or the explicit `postDeployMigrationCommand` with a custom
 * command. A preset that cannot split the phases runs every migration, contract ones included, in
 * the pre-deploy Job, so an explicit post-deploy command next to it is refused.
 */
export function resolvePostDeployPhase(owner: string, props: DatabaseMigrationProps, tool: MigrationTool): PostDeployPhase | undefined {
  const explicit = props.postDeployMigrationCommand;
  if (explicit === undefined) {
    return tool.postDeployCommand !== undefined ? { command: tool.postDeployCommand, env: tool.postDeployEnv } : undefined;
  }
  validateCommand(owner, 'postDeployMigrationCommand', explicit);
  if (tool.postDeployCommand !== undefined) {
    throw invalidProp(owner, 'postDeployMigrationCommand', explicit,
      `migrationTool (${tool.toolName}) already has a post-deploy command (${JSON.stringify(tool.postDeployCommand)}); give one of them, not both.`);
  }
  if (props.migrationTool !== undefined && tool.toolName !== 'custom') {
    throw invalidProp(owner, 'postDeployMigrationCommand', explicit,
      `MigrationTool.${tool.toolName}() runs every pending migration, contract ones included, in the pre-deploy Job, which would break the `
      + 'previous release\'s pods before the post-deploy Job runs. Use the preset\'s own post-deploy option where it has one, or give both '
      + 'commands yourself: MigrationTool.custom(expandCommand, { postDeployCommand }) or migrationCommand with postDeployMigrationCommand.');
  }
  return { command: explicit, env: tool.env };
}
