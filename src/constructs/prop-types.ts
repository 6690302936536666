import type * as kplus from 'cdk8s-plus-28';
import { closest, firstUnknown } from './options';
import { invalidProp } from './validation';
import { isUnsplitCommandLine, unsplitCommandFix } from '../shared/command';

/**
 * What a prop takes, checked at run time. Props built in JavaScript, read from a config file, spread
 * from an `any` or passed from another jsii language reach the constructs unchecked by TypeScript:
 * a number where a Duration is expected would crash deep inside (`duration.toMilliseconds is not a
 * function`), a string where a list is expected would be read letter by letter. Each prop is
 * checked against its type first, so the error names the construct, the prop, the value and the fix.
 */
export interface PropType {
  /** What the prop takes, in words, e.g. "a Duration, e.g. Duration.minutes(30)". */
  readonly expected: string;
  /** The problem with `value`, or undefined when it is of this type. */
  readonly problem: (value: unknown) => Problem | undefined;
}

/** Why a value is not of its type, and what to do. */
export interface Problem {
  /** The part of the value at fault, after the prop's name (e.g. `.cpu.request`, `["WORKERS"]`). */
  readonly at?: string;
  /** The value at fault. */
  readonly value: unknown;
  /** The rule and the fix. */
  readonly rule: string;
}

/**
 * The type of each prop of an interface, each listed once: the compiler refuses a table that misses
 * a prop or names one the interface does not have, so the table cannot drift from the interface.
 */
export type PropTypes<T> = { readonly [K in keyof Required<T>]: PropType };

/**
 * Throws unless `props` is an object whose keys are all props of `construct` and whose values are
 * of their types. Called first in every constructor.
 */
export function checkProps<T>(owner: string, construct: string, props: T, types: PropTypes<T>): void {
  if (!isRecord(props)) {
    throw invalidProp(owner, 'props', props, `${construct} takes an object of props, e.g. { imageTag, image, migrationTool }.`);
  }
  const unknown = firstUnknown(props, Object.keys(types));
  if (unknown !== undefined) {
    throw invalidProp(owner, 'prop', unknown.key, `it is not a prop of ${construct}, which would ignore it.${unknown.didYouMean} `
      + `${construct}Props in API.md lists the props.`);
  }
  checkValues(owner, props, types as unknown as { [key: string]: PropType });
}

/**
 * Throws unless `options` is undefined, or an object whose keys are all options of `owner` and whose
 * values are of their types. Called first in every factory that takes options.
 */
export function checkOptions<T>(owner: string, options: T | undefined, types: PropTypes<T>): void {
  if (options === undefined) {
    return;
  }
  const known = Object.keys(types);
  if (!isRecord(options)) {
    throw invalidProp(owner, 'options', options, known.length > 0
      ? `the options are an object with some of: ${known.join(', ')}.`
      : 'it takes no options.');
  }
  const unknown = firstUnknown(options, known);
  if (unknown !== undefined) {
    throw invalidProp(owner, 'option', unknown.key, `it is not an option of ${owner}, which would ignore it.${unknown.didYouMean} `
      + `${known.length > 0 ? `The options are: ${known.join(', ')}.` : 'It takes no options.'}`);
  }
  checkValues(owner, options as { [key: string]: unknown }, types as unknown as { [key: string]: PropType });
}

/**
 * Throws when a factory that takes no options is given some: from JavaScript, `django({ database })`
 * compiles, and the option would be ignored in silence.
 */
export function refuseOptions(owner: string, given: ArrayLike<unknown>, takes: number = 0): void {
  for (let i = takes; i < given.length; i++) {
    if (given[i] !== undefined) {
      throw invalidProp(owner, i === takes ? 'options' : `argument ${i + 1}`, given[i],
        `${owner} takes ${takes === 0 ? 'no arguments' : `${takes} argument${takes > 1 ? 's' : ''}`}, so it would ignore this one.`);
    }
  }
}

/** Throws unless the argument `name` of a factory is of `type` (or undefined, when `optional`). */
export function checkArgument(owner: string, name: string, value: unknown, type: PropType, optional: boolean = false): void {
  if (value === undefined && optional) {
    return;
  }
  if (value === undefined || value === null) {
    throw invalidProp(owner, name, value, `it is required: ${type.expected}.`);
  }
  const problem = type.problem(value);
  if (problem !== undefined) {
    throw invalidProp(owner, `${name}${problem.at ?? ''}`, problem.value, problem.rule);
  }
}

function checkValues(owner: string, values: { [key: string]: unknown }, types: { [key: string]: PropType }, prefix: string = ''): void {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) {
      continue;
    }
    const type = types[key];
    if (value === null) {
      // null is refused rather than read as "unset": a config file's null is more often a value that
      // failed to load than a deliberate default, and code that reads `!== undefined` would take it.
      throw invalidProp(owner, `${prefix}${key}`, value, `it is ${type.expected}. To take the default, leave the prop out (undefined), not null.`);
    }
    const problem = type.problem(value);
    if (problem !== undefined) {
      throw invalidProp(owner, `${prefix}${key}${problem.at ?? ''}`, problem.value, problem.rule);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The types.

/** A string; its content is checked where the prop is used. */
export const STRING: PropType = {
  expected: 'a string',
  problem: (value) => typeof value === 'string' ? undefined : { value, rule: `it is a string${quoteHint(value)}.` },
};

/** A whole number in [min, max]; `meaning` names it in the error (e.g. "a TCP port"). */
export function integer(min: number, max: number, meaning: string = 'it'): PropType {
  const expected = `a whole number from ${min} to ${max}`;
  return {
    expected,
    problem: (value) => {
      if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) {
        return undefined;
      }
      const numeric = typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value));
      return { value, rule: `${meaning} must be ${expected}${numeric ? `: write the number ${Number(value)}, not the string "${value}"` : ''}.` };
    },
  };
}

/** true or false. */
export const BOOLEAN: PropType = {
  expected: 'true or false',
  problem: (value) => {
    if (typeof value === 'boolean') {
      return undefined;
    }
    const text = typeof value === 'string' && ['true', 'false'].includes(value.toLowerCase()) ? `: write ${value.toLowerCase()}, not the string "${value}"` : '';
    return { value, rule: `it is true or false${text}.` };
  },
};

/** A list of strings. */
export const STRING_LIST: PropType = {
  expected: 'a list of strings',
  problem: (value) => {
    if (typeof value === 'string') {
      return { value, rule: `it is a list of strings, not one string: write [${JSON.stringify(value)}].` };
    }
    if (!Array.isArray(value)) {
      return { value, rule: 'it is a list of strings, e.g. ["app-secrets"].' };
    }
    const index = value.findIndex((item) => typeof item !== 'string');
    return index < 0 ? undefined : { at: `[${index}]`, value: value[index], rule: `each element is a string${quoteHint(value[index])}.` };
  },
};

/** A container command: a list of strings, the program first. A command line in one string is split in the fix. */
export const COMMAND: PropType = {
  expected: 'a list of strings, the program first, e.g. ["npx", "prisma", "migrate", "deploy"]',
  problem: (value) => {
    if (typeof value === 'string') {
      const fix = isUnsplitCommandLine(value) ? unsplitCommandFix([value]) : `Write [${JSON.stringify(value)}].`;
      return { value, rule: `it is a list of strings, the program first, not one string. ${fix}` };
    }
    return STRING_LIST.problem(value);
  },
};

/** An object whose values are strings, such as labels, annotations or a preset's env. */
export const STRING_MAP: PropType = {
  expected: 'an object of strings, e.g. { "team": "payments" }',
  problem: (value) => {
    if (!isRecord(value)) {
      return { value, rule: 'it is an object whose values are strings, e.g. { "team": "payments" }.' };
    }
    const entry = Object.entries(value).find(([, v]) => typeof v !== 'string');
    return entry === undefined ? undefined : {
      at: `["${entry[0]}"]`,
      value: entry[1],
      rule: `each value is a string, as the API server accepts no other${quoteHint(entry[1])}.`,
    };
  },
};

/** An object of cdk8s-plus `EnvValue`s whose plain values are strings. */
export const ENV_VALUES: PropType = {
  expected: 'an object of EnvValue, e.g. { DEBUG: EnvValue.fromValue("0") }',
  problem: (value) => {
    if (!isRecord(value)) {
      return { value, rule: 'it is an object of EnvValue, e.g. { DEBUG: EnvValue.fromValue("0") }.' };
    }
    for (const [name, env] of Object.entries(value)) {
      const at = `["${name}"]`;
      if (typeof env === 'string' || typeof env === 'number' || typeof env === 'boolean') {
        return { at, value: env, rule: `each value is an EnvValue from cdk8s-plus: write EnvValue.fromValue(${JSON.stringify(String(env))}).` };
      }
      if (!isRecord(env) || (!('value' in env) && !('valueFrom' in env))) {
        return { at, value: env, rule: 'each value is an EnvValue from cdk8s-plus, e.g. EnvValue.fromValue("0") or EnvValue.fromSecretValue(...).' };
      }
      if (env.valueFrom === undefined && typeof env.value !== 'string') {
        // The API server refuses a number ("cannot unmarshal number into ... string"), at apply time.
        return {
          at,
          value: env.value,
          rule: 'an environment variable\'s value is a string, which the API server requires: '
          + `write EnvValue.fromValue(${JSON.stringify(String(env.value))}) (String(${describeShort(env.value)})).`,
        };
      }
    }
    return undefined;
  },
};

/** A cdk8s Duration, from any copy of cdk8s: it is recognised by its methods. */
export const DURATION: PropType = {
  expected: 'a Duration, e.g. Duration.minutes(30)',
  problem: (value) => hasMethods(value, ['toMilliseconds', 'toSeconds', 'toHumanString']) ? undefined
    : { value, rule: `it is a Duration from cdk8s, not ${kindOf(value)}: write ${durationFix(value)}.` },
};

/** A cdk8s Size, from any copy of cdk8s. */
export const SIZE: PropType = {
  expected: 'a Size, e.g. Size.mebibytes(512)',
  problem: (value) => hasMethods(value, ['toKibibytes', 'asString']) ? undefined
    : { value, rule: `it is a Size from cdk8s, not ${kindOf(value)}: write ${sizeFix(value)}.` },
};

/** A cdk8s-plus Cpu, from any major. */
export const CPU: PropType = {
  expected: 'a Cpu, e.g. Cpu.millis(500)',
  problem: (value) => isRecord(value) && typeof value.amount === 'string' ? undefined
    : { value, rule: `it is a Cpu from cdk8s-plus, not ${kindOf(value)}: write ${cpuFix(value)}.` },
};

/** A cdk8s-plus PercentOrAbsolute, from any major. */
export const PERCENT_OR_ABSOLUTE: PropType = {
  expected: 'a PercentOrAbsolute, e.g. PercentOrAbsolute.percent(25)',
  problem: (value) => {
    if (hasMethods(value, ['isZero']) && 'value' in (value as object)) {
      return undefined;
    }
    const percent = typeof value === 'string' ? /^\s*(\d+)\s*%\s*$/.exec(value) : null;
    const fix = percent !== null ? `PercentOrAbsolute.percent(${percent[1]})`
      : typeof value === 'number' ? `PercentOrAbsolute.absolute(${value})` : 'PercentOrAbsolute.percent(25) or PercentOrAbsolute.absolute(1)';
    return { value, rule: `it is a PercentOrAbsolute from cdk8s-plus, not ${kindOf(value)}: write ${fix}.` };
  },
};

/** A plain object, passed on as it is (a cdk8s-plus struct the library does not read). */
export function struct(name: string): PropType {
  return {
    expected: `a ${name} object`,
    problem: (value) => isRecord(value) ? undefined : { value, rule: `it is a ${name} object, not ${kindOf(value)}.` },
  };
}

/** One of `values`, with the value meant when one is near. */
export function oneOf(typeName: string, values: string[]): PropType {
  const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')} (${typeName})`;
  return {
    expected,
    problem: (value) => {
      if (typeof value === 'string' && values.includes(value)) {
        return undefined;
      }
      const meant = typeof value === 'string' ? closest(value, values) : undefined;
      return { value, rule: `it is ${expected}, and the value is written verbatim to the YAML.${meant !== undefined ? ` Did you mean "${meant}"?` : ''}` };
    },
  };
}

/** An object with these props, each of its type, and no other. */
export function shape<T>(name: string, types: PropTypes<T>): PropType {
  const table = types as unknown as { [key: string]: PropType };
  const known = Object.keys(table);
  return {
    expected: `a ${name} object`,
    problem: (value) => {
      if (!isRecord(value)) {
        return { value, rule: `it is a ${name} object with some of: ${known.join(', ')}; not ${kindOf(value)}.` };
      }
      const unknown = firstUnknown(value, known);
      if (unknown !== undefined) {
        return { at: `.${unknown.key}`, value: value[unknown.key], rule: `it is not a field of ${name}, which would ignore it.${unknown.didYouMean} The fields are: ${known.join(', ')}.` };
      }
      for (const [key, field] of Object.entries(value)) {
        if (field === undefined) {
          continue;
        }
        const problem: Problem | undefined = field === null
          ? { value: field, rule: `it is ${table[key].expected}; leave it out rather than null.` }
          : table[key].problem(field);
        if (problem !== undefined) {
          return { ...problem, at: `.${key}${problem.at ?? ''}` };
        }
      }
      return undefined;
    },
  };
}

/** A construct (any object with a `node`). */
export const CONSTRUCT: PropType = {
  expected: 'a construct',
  problem: (value) => isRecord(value) && isRecord(value.node) && typeof value.node.path === 'string' ? undefined
    : { value, rule: `it is a construct (e.g. a Chart, a cdk8s-plus Deployment or an ApiObject), not ${kindOf(value)}.` },
};

/**
 * An object of one of this library's classes, made by its static factories. It is recognised by
 * its methods, not `instanceof`, so a second copy of the library in node_modules still works; an
 * object of cdk8s-plus's own type, or a string naming a factory, is refused with the factory to use.
 */
export function libraryType(className: string, isOne: (value: { [key: string]: unknown }) => boolean,
  factories: string[], plusTypes: string[] = []): PropType {
  const example = `${className}.${factories[0]}()`;
  return {
    expected: `a ${className}, e.g. ${example}`,
    problem: (value) => {
      if (isRecord(value) && isOne(value)) {
        return undefined;
      }
      if (typeof value === 'string') {
        const meant = closest(value, factories);
        return { value, rule: `it is a ${className} from cdk8s-migrated-service, not a string: write ${meant !== undefined ? `${className}.${meant}()` : example}.` };
      }
      if (typeof value === 'function') {
        const name = (value as { name?: string }).name;
        return { value, rule: `it is a ${className}, made by calling a factory: write ${name !== undefined && factories.includes(name) ? `${className}.${name}()` : example}, with the parentheses.` };
      }
      const foreign = className_(value);
      if (foreign !== undefined && plusTypes.includes(foreign)) {
        return {
          value,
          rule: `pass ${example} from cdk8s-migrated-service, not a cdk8s-plus ${foreign}: it takes the same options as plain data, `
          + `so that it works with every cdk8s-plus major. The factories are: ${factories.map((f) => `${className}.${f}()`).join(', ')}.`,
        };
      }
      return { value, rule: `it is a ${className} from cdk8s-migrated-service (${factories.map((f) => `${className}.${f}()`).join(', ')}), not ${kindOf(value)}.` };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers.

function isRecord(value: unknown): value is { [key: string]: any } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasMethods(value: unknown, methods: string[]): boolean {
  return typeof value === 'object' && value !== null && methods.every((m) => typeof (value as any)[m] === 'function');
}

/** The class of an object that is not a plain object, if it has one. */
function className_(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === 'string' && name !== 'Object' && name !== '' ? name : undefined;
}

/** "a number", "a string", "a list", "an object", "a DeploymentStrategy"... */
export function kindOf(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  const name = className_(value);
  if (name !== undefined) {
    return `a ${name}`;
  }
  const type = typeof value;
  return type === 'object' ? 'a plain object' : type === 'undefined' ? 'undefined' : `a${/^[aeiou]/.test(type) ? 'n' : ''} ${type}`;
}

function describeShort(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' || typeof value === 'boolean' ? String(value) : 'value';
}

function quoteHint(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean' ? `: quote it, "${value}" (String(${value}))` : `, not ${kindOf(value)}`;
}

const DURATION_UNITS: { [unit: string]: string } = {
  ms: 'millis', s: 'seconds', sec: 'seconds', m: 'minutes', min: 'minutes', h: 'hours', d: 'days',
};

function durationFix(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return `Duration.seconds(${value}) if ${value} is seconds (Duration.minutes, Duration.hours for other units)`;
  }
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)\s*$/i.exec(value) : null;
  if (match !== null) {
    return `Duration.${DURATION_UNITS[match[2].toLowerCase()]}(${match[1]})`;
  }
  return 'Duration.seconds(30), Duration.minutes(30) or Duration.hours(1)';
}

const SIZE_UNITS: { [unit: string]: string } = {
  ki: 'kibibytes',
  mi: 'mebibytes',
  gi: 'gibibytes',
  ti: 'tebibytes',
  pi: 'pebibytes',
  k: 'kibibytes',
  m: 'mebibytes',
  g: 'gibibytes',
  t: 'tebibytes',
  p: 'pebibytes',
};

function sizeFix(value: unknown): string {
  const match = typeof value === 'string' ? /^\s*(\d+)\s*(Ki|Mi|Gi|Ti|Pi|K|M|G|T|P)i?B?\s*$/i.exec(value) : null;
  if (match !== null) {
    const decimal = !/i/i.test(value as string) ? ' (cdk8s sizes are binary: Mi, not M)' : '';
    return `Size.${SIZE_UNITS[match[2].toLowerCase()]}(${match[1]})${decimal}`;
  }
  return 'Size.mebibytes(512) or Size.gibibytes(1)';
}

function cpuFix(value: unknown): string {
  const millis = typeof value === 'string' ? /^\s*(\d+)\s*m\s*$/.exec(value) : null;
  if (millis !== null) {
    return `Cpu.millis(${millis[1]})`;
  }
  const units = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (Number.isFinite(units)) {
    return `Cpu.units(${units}) (or Cpu.millis(${Math.round(units * 1000)}))`;
  }
  return 'Cpu.millis(500) or Cpu.units(1)';
}

// ---------------------------------------------------------------------------------------------
// The types of this library's classes and of the cdk8s-plus structs its props take.

export const DELIVERY = libraryType('Delivery', (v) => typeof v.jobAnnotations === 'function' && typeof v._ttlConsequence === 'function',
  ['flux', 'argoCd', 'helm', 'kubectl']);
export const MIGRATION_TOOL = libraryType('MigrationTool', (v) => typeof v.toolName === 'string' && Array.isArray(v.command) && Array.isArray(v.appWritablePaths),
  ['prisma', 'alembic', 'liquibase', 'flyway', 'golangMigrate', 'django', 'rails', 'knex', 'typeorm', 'sequelize', 'custom']);
export const MIGRATION_WAITER = libraryType('MigrationWaiter', (v) => typeof v.bind === 'function' && typeof v._program === 'function',
  ['watch', 'k8sWaitFor', 'kubectlWait']);
export const SERVICE_PROBE = libraryType('ServiceProbe', (v) => typeof v._toProbe === 'function' && typeof v._validatePort === 'function',
  ['fromHttpGet', 'fromTcpSocket', 'fromCommand'], ['Probe']);
export const SERVICE_STRATEGY = libraryType('ServiceStrategy', (v) => typeof v._toStrategy === 'function',
  ['rollingUpdate', 'recreate'], ['DeploymentStrategy']);

/** cdk8s-plus ContainerResources: Cpu and Size objects, not Kubernetes quantities such as "512Mi". */
export const RESOURCES = shape<kplus.ContainerResources>('ContainerResources', {
  cpu: shape<kplus.CpuResources>('CpuResources', { request: CPU, limit: CPU }),
  memory: shape<kplus.MemoryResources>('MemoryResources', { request: SIZE, limit: SIZE }),
  ephemeralStorage: shape<kplus.EphemeralStorageResources>('EphemeralStorageResources', { request: SIZE, limit: SIZE }),
});

/** cdk8s-plus ContainerSecurityContextProps. */
export const SECURITY_CONTEXT = shape<kplus.ContainerSecurityContextProps>('ContainerSecurityContextProps', {
  user: integer(0, 2147483647),
  group: integer(0, 2147483647),
  ensureNonRoot: BOOLEAN,
  privileged: BOOLEAN,
  readOnlyRootFilesystem: BOOLEAN,
  allowPrivilegeEscalation: BOOLEAN,
  capabilities: struct('ContainerSecutiryContextCapabilities'),
  seccompProfile: struct('SeccompProfile'),
});

/** ImagePullPolicy of cdk8s-plus (the same strings in every major). */
export const IMAGE_PULL_POLICY = oneOf('ImagePullPolicy', ['Always', 'IfNotPresent', 'Never']);
