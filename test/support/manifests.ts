import { Chart, ChartProps, Testing } from 'cdk8s';
import { MigratedService, MigratedServiceProps } from '../../src';

/** The pattern document's example values. */
export const PATTERN_EXAMPLE: MigratedServiceProps = {
  imageTag: 'v1.2286938253.0',
  image: 'registry.example.com/myapp',
  migrationImage: 'registry.example.com/myapp-migration',
  migrationCommand: ['npx', 'prisma', 'migrate', 'deploy'],
  replicas: 2,
  configMapNames: ['myapp-config'],
  secretNames: ['myapp-secrets'],
  port: 3000,
};

/** Props with only what is required. */
export const MINIMAL: MigratedServiceProps = {
  imageTag: 'v1.0.0',
  image: 'registry.example.com/myapp',
  migrationCommand: ['./migrate'],
};

export interface Synthesized {
  readonly service: MigratedService;
  readonly manifests: any[];
}

/** Synthesizes one MigratedService with id `myapp` in a fresh chart. */
export function synthesize(props: MigratedServiceProps, chartProps: ChartProps = { namespace: 'shop' }): Synthesized {
  const chart = new Chart(Testing.app(), 'test', chartProps);
  const service = new MigratedService(chart, 'myapp', props);
  return { service, manifests: Testing.synth(chart) };
}

export function allOfKind(manifests: any[], kind: string): any[] {
  return manifests.filter((m) => m.kind === kind);
}

/** The single manifest of `kind`; fails when there are none or several. */
export function oneOfKind(manifests: any[], kind: string): any {
  const found = allOfKind(manifests, kind);
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${kind}, found ${found.length}`);
  }
  return found[0];
}

export function container(podSpec: any, name: string): any {
  const found = [...(podSpec.initContainers ?? []), ...podSpec.containers].filter((c: any) => c.name === name);
  if (found.length !== 1) {
    throw new Error(`expected exactly one container named ${name}, found ${found.length}`);
  }
  return found[0];
}

/** The single manifest of `kind` named `name`; fails when there are none or several. */
export function named(manifests: any[], kind: string, name: string): any {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${kind} named ${name}, found ${found.length}`);
  }
  return found[0];
}

/** The Job a waiter init container waits for: every waiter names it in MIGRATION_JOB. */
export function waitedJob(waiter: any): string | undefined {
  return (waiter.env ?? []).find((e: any) => e.name === 'MIGRATION_JOB')?.value;
}

/** Where the manifest of `kind` named `name` stands in the synthesized order; -1 when absent. */
export function positionOf(manifests: any[], kind: string, name: string): number {
  return manifests.findIndex((m) => m.kind === kind && m.metadata.name === name);
}
