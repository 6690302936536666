import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { BenchServiceSpec, handWrittenService } from './hand-written';
import { MigratedService } from '../src';

/** `lib` builds `MigratedService`s; `hand` builds the same objects with cdk8s-plus-28 directly. */
export type Impl = 'lib' | 'hand';

/**
 * How the services are spread over charts and apps:
 * - `one-chart`: every service in one chart of one app;
 * - `chart-per-service`: one chart per service, all in one app;
 * - `group-<G>`: charts of G services each, all in one app;
 * - `app-per-service`: one chart per service, each in its own app, synthesized one after the other.
 */
export type Layout = string;

export const MAIN_LAYOUTS = ['one-chart', 'chart-per-service'];

export const NAMESPACE = 'bench';

/**
 * The i-th service of the workload: a typical database-backed service with a port (so a Service is
 * emitted too), a ConfigMap and a Secret for its environment.
 */
export function benchSpec(i: number): BenchServiceSpec {
  const name = `svc-${String(i).padStart(4, '0')}`;
  return {
    name,
    imageTag: '3f2a9c1',
    image: `registry.example.com/team/${name}`,
    migrationCommand: ['npx', 'prisma', 'migrate', 'deploy'],
    port: 8080,
    configMapNames: [`${name}-config`],
    secretNames: [`${name}-db`],
    partOf: 'shop',
  };
}

export function addService(impl: Impl, scope: Construct, spec: BenchServiceSpec): void {
  if (impl === 'lib') {
    new MigratedService(scope, spec.name, spec);
  } else {
    handWrittenService(scope, spec.name, spec);
  }
}

export function validLayout(layout: string): boolean {
  return MAIN_LAYOUTS.includes(layout) || layout === 'app-per-service' || /^group-[1-9][0-9]*$/.test(layout);
}

/**
 * Builds the apps of one measurement. Only `app-per-service` returns more than one app.
 */
export function buildApps(impl: Impl, layout: Layout, n: number): App[] {
  if (layout === 'app-per-service') {
    return Array.from({ length: n }, (_, i) => {
      const app = new App();
      addService(impl, new Chart(app, benchSpec(i).name, { namespace: NAMESPACE }), benchSpec(i));
      return app;
    });
  }
  const perChart = layout === 'one-chart' ? Math.max(n, 1)
    : layout === 'chart-per-service' ? 1
      : Number(layout.slice('group-'.length));
  const app = new App();
  let chart: Chart | undefined;
  for (let i = 0; i < n; i++) {
    if (i % perChart === 0) {
      chart = new Chart(app, `chart-${String(i / perChart).padStart(4, '0')}`, { namespace: NAMESPACE });
    }
    addService(impl, chart!, benchSpec(i));
  }
  return [app];
}

/** What a user's `main.ts` does: build, then synthesize everything to one YAML string per app. */
export function synthesize(apps: App[]): string[] {
  return apps.map((app) => app.synthYaml());
}
